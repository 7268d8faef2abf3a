/**
 * Keeps one Oqto session's conversation in history (HSTRY.md §5.3, PROTOCOL.md §1.7-2): binds it when
 * the pi session id is known, queues every message seen at `message_end`, writes the queue at turn
 * end with retries, and keeps what could not be written until the next write. All history calls of
 * one session run one after another, so a title update never overtakes an append.
 */
import type { ConversationRecord, HistoryStore, MessageVersion } from "../../history/history-store.ts";
import { ProtocolError } from "../../protocol/common.ts";
import type { Message } from "../../protocol/message.ts";
import { applyToolCallStatus } from "../harness/pi/message-mapper.ts";
import { rebaseMessage } from "./message-ids.ts";

/** A tool call whose result has not been queued with it (its status is set from the result). */
const awaitsResult = (part: Message["parts"][number]) =>
  part.type === "tool_call" && part.status !== "success" && part.status !== "error";

/** Waits before the retries of a turn's write; after the last one the turn is reported unsaved. */
const WRITE_RETRY_DELAYS_MS: readonly number[] = [100, 500, 2000];

/** What the session knows about its conversation at the moment of a write. */
export interface ConversationFacts {
  sessionId: string;
  piSessionId: string;
  piSessionFile?: string | undefined;
  workspace: string;
  createdAt: number;
  title?: string | undefined;
  model?: string | undefined;
  provider?: string | undefined;
}

/** The conversation a fork (or a new session with a parent) descends from. */
export interface Lineage {
  parentPiSessionId: string;
  /** The parent's Oqto session id, kept in the conversation's metadata. */
  parentSessionId?: string | undefined;
}

export interface BindOptions {
  /** Messages pi already holds (the next live idx). */
  messageCount: number;
  /** pi's conversation as canonical messages; read only when history lacks some of them. */
  loadMessages: () => Promise<Message[]>;
  lineage?: Lineage | undefined;
}

/** `version` is absent only when the conversation was deleted meanwhile (nothing to persist). */
export type TurnWrite = { ok: true; version?: MessageVersion } | { ok: false; error: string };

export interface StoredMessages {
  messages: Message[];
  version: number;
  message_count: number;
}

export interface ConversationSyncOptions {
  store: HistoryStore;
  /** undefined until pi reported its session id. */
  facts: () => ConversationFacts | undefined;
  /** Told when history starts or stops lacking queued messages (persisted in the session index). */
  onDirty: (dirty: boolean) => void;
  log: (message: string) => void;
}

interface PendingGroup {
  /** Used for groups of an earlier pi session; the current one is written with fresh facts. */
  record: ConversationRecord;
  rows: Map<number, Message>;
}

interface Binding extends BindOptions {
  piSessionId: string;
}

/** Parent key kept in `metadata_json`: the conversation id lineage alone cannot be read back by id. */
const PARENT_SESSION_KEY = "parent_session_id";

export class ConversationSync {
  private readonly store: HistoryStore;
  /** Queued rows per pi session id, in idx order when written. */
  private readonly pending = new Map<string, PendingGroup>();
  /** A bind that has not reached history yet; it runs before the next write. */
  private binding: Binding | undefined;
  private boundPiSessionId: string | undefined;
  /** Metadata keys found in history (e.g. the fork parent), kept on every update. */
  private metadataBase: Record<string, unknown> = {};
  private parentRef: ConversationRecord["parent"];
  /** Title, model, provider and metadata as history has them, to send only changes. */
  private writtenFields: string | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private discarded = false;
  /** Unknown at start: the first successful write clears a mark an earlier runner may have left. */
  private dirty = true;

  constructor(private readonly options: ConversationSyncOptions) {
    this.store = options.store;
  }

  /**
   * The pi session is known (spawn, resume or re-bind): creates or re-binds the conversation, writes
   * a fork's inherited rows, and adds messages pi has but history lacks. One attempt; a failure is
   * retried before the next write. Resolves true when history is up to date.
   */
  bind(options: BindOptions): Promise<boolean> {
    const facts = this.options.facts();
    if (!facts || this.discarded) return Promise.resolve(false);
    this.binding = { ...options, piSessionId: facts.piSessionId };
    return this.enqueue(async () => {
      try {
        await this.bindNow();
        return true;
      } catch (error) {
        this.options.log(`history: cannot bind the conversation yet: ${(error as Error).message}`);
        return false;
      }
    });
  }

  /** Queues a message seen at `message_end` (a later row with the same idx replaces it). */
  record(message: Message): void {
    const facts = this.options.facts();
    if (!facts || this.discarded) return;
    let group = this.pending.get(facts.piSessionId);
    if (!group) {
      group = { record: this.recordOf(facts), rows: new Map() };
      this.pending.set(facts.piSessionId, group);
    }
    group.rows.set(message.idx, structuredClone(message));
  }

  /** Turn end: writes everything queued, retrying; on failure the rows stay queued. */
  persistTurn(): Promise<TurnWrite> {
    return this.enqueue(async () => {
      let lastError: unknown;
      for (let attempt = 0; attempt <= WRITE_RETRY_DELAYS_MS.length; attempt++) {
        if (attempt > 0) await Bun.sleep(WRITE_RETRY_DELAYS_MS[attempt - 1] as number);
        if (this.discarded) return { ok: true } satisfies TurnWrite;
        try {
          return { ok: true, version: await this.writeAll() } satisfies TurnWrite;
        } catch (error) {
          lastError = error;
        }
      }
      if (this.discarded) return { ok: true } satisfies TurnWrite;
      this.markDirty(true);
      const reason = (lastError as Error)?.message ?? String(lastError);
      this.options.log(`history: the turn could not be saved, kept for the next write: ${reason}`);
      return { ok: false, error: reason } satisfies TurnWrite;
    });
  }

  /**
   * One attempt to write what is still queued (session close). `settled` (a write mid-turn, e.g. the
   * prompt at once) keeps back the rows from the first tool call still waiting for its result: a
   * call's status is set from its result when both are written, so a call written before its result
   * would stay without one.
   */
  flush(options: { settled?: boolean } = {}): Promise<void> {
    return this.enqueue(async () => {
      if (this.discarded || (this.pending.size === 0 && !this.binding)) return;
      try {
        await this.writeAll(options.settled === true);
      } catch (error) {
        this.markDirty(true);
        this.options.log(`history: queued messages not written yet: ${(error as Error).message}`);
      }
    });
  }

  /** Title, model or metadata changed: tells history (once; a failure is retried with the next write). */
  touch(): void {
    void this.enqueue(async () => {
      if (this.discarded || this.binding || !this.boundPiSessionId) return;
      const facts = this.options.facts();
      if (!facts) return;
      try {
        await this.syncFields(facts);
      } catch (error) {
        this.options.log(`history: conversation update deferred: ${(error as Error).message}`);
      }
    });
  }

  /** The session is being deleted: nothing may be written (or re-created) any more. */
  discard(): void {
    this.discarded = true;
    this.pending.clear();
    this.binding = undefined;
  }

  /**
   * The conversation from history plus the rows still queued, with this session's message ids;
   * undefined when history cannot answer for it (the caller then reads pi).
   */
  async read(limit: number | undefined): Promise<StoredMessages | undefined> {
    const facts = this.options.facts();
    if (!facts || this.binding || this.discarded) return undefined;
    let stored: Awaited<ReturnType<HistoryStore["getMessages"]>>;
    try {
      stored = await this.store.getMessages(facts.piSessionId, limit ?? 0);
    } catch (error) {
      this.options.log(`history: reading messages failed, using pi: ${(error as Error).message}`);
      return undefined;
    }
    if (!stored) return undefined;
    const byIdx = new Map<number, Message>();
    for (const message of stored.messages) byIdx.set(message.idx, rebaseMessage(message, facts.sessionId));
    const queued = [...(this.pending.get(facts.piSessionId)?.rows.values() ?? [])].map((message) =>
      structuredClone(message),
    );
    applyToolCallStatus(queued);
    for (const message of queued) byIdx.set(message.idx, message);
    const messages = [...byIdx.values()].sort((a, b) => a.idx - b.idx);
    const lastIdx = messages.at(-1)?.idx ?? -1;
    return {
      messages: limit === undefined ? messages : messages.slice(-limit),
      version: stored.version.version,
      message_count: Math.max(stored.version.messageCount, lastIdx + 1),
    };
  }

  // ---- internals (always run inside the chain) ----

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.then(work, work);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private markDirty(dirty: boolean): void {
    if (this.dirty === dirty) return;
    this.dirty = dirty;
    this.options.onDirty(dirty);
  }

  private recordOf(facts: ConversationFacts): ConversationRecord {
    const metadata: Record<string, unknown> = { ...this.metadataBase };
    if (facts.piSessionFile) metadata.pi_session_file = facts.piSessionFile;
    return {
      piSessionId: facts.piSessionId,
      sessionId: facts.sessionId,
      workspace: facts.workspace,
      createdAt: facts.createdAt,
      ...(facts.title === undefined ? {} : { title: facts.title }),
      ...(facts.model === undefined ? {} : { model: facts.model }),
      ...(facts.provider === undefined ? {} : { provider: facts.provider }),
      metadata,
      ...(this.parentRef ? { parent: this.parentRef } : {}),
    };
  }

  private async bindNow(): Promise<void> {
    const binding = this.binding;
    const facts = this.options.facts();
    if (!binding || !facts || this.discarded) return;
    if (this.boundPiSessionId !== binding.piSessionId) {
      this.metadataBase = {};
      this.parentRef = undefined;
      this.writtenFields = undefined;
    }
    const stored = await this.store.getConversation(binding.piSessionId);
    let storedCount: number;
    if (!stored && binding.lineage) {
      storedCount = await this.writeFork(facts, binding.lineage, binding);
    } else {
      if (stored) {
        const { pi_session_file: _file, ...kept } = stored.metadata;
        this.metadataBase = kept;
      }
      storedCount = (await this.store.ensureConversation(this.recordOf(facts))).nextIdx;
      this.writtenFields = stored
        ? fieldsKey({
            title: stored.title,
            model: facts.model,
            provider: facts.provider,
            metadata: stored.metadata,
          })
        : fieldsKey(this.recordOf(facts));
    }
    if (storedCount < binding.messageCount) {
      const missing = (await binding.loadMessages()).filter(
        (message) => message.idx >= storedCount && message.idx < binding.messageCount,
      );
      if (missing.length > 0) {
        await this.store.appendMessages(
          this.recordOf(facts),
          missing.map((message) => rebaseMessage(message, facts.sessionId)),
        );
      }
    }
    this.boundPiSessionId = binding.piSessionId;
    this.binding = undefined;
    await this.syncFields(facts);
    if (this.pending.size === 0) this.markDirty(false);
  }

  /**
   * A fork: a new conversation with the parent's rows 0..k-1 (k = messages pi copied) and the
   * parent's conversation id and k as lineage. Rows the parent's history lacks come from pi.
   */
  private async writeFork(facts: ConversationFacts, lineage: Lineage, binding: Binding): Promise<number> {
    const k = binding.messageCount;
    const parent = await this.store.getMessages(lineage.parentPiSessionId, 0);
    const rows = new Map<number, Message>();
    for (const message of parent?.messages ?? []) {
      if (message.idx < k) rows.set(message.idx, rebaseMessage(message, facts.sessionId));
    }
    if (rows.size < k) {
      for (const message of await binding.loadMessages()) {
        if (message.idx < k && !rows.has(message.idx)) rows.set(message.idx, message);
      }
    }
    this.metadataBase = lineage.parentSessionId ? { [PARENT_SESSION_KEY]: lineage.parentSessionId } : {};
    this.parentRef = parent ? { conversationId: parent.conversationId, messageIdx: k } : undefined;
    const record = this.recordOf(facts);
    await this.store.writeConversation(
      record,
      [...rows.values()].sort((a, b) => a.idx - b.idx),
    );
    this.writtenFields = fieldsKey(record);
    return k;
  }

  /** Sends title, model, provider and metadata when they differ from what history has. */
  private async syncFields(facts: ConversationFacts): Promise<void> {
    const record = this.recordOf(facts);
    const key = fieldsKey(record);
    if (key === this.writtenFields) return;
    try {
      await this.store.updateConversation(facts.piSessionId, {
        sessionId: facts.sessionId,
        ...(record.title === undefined ? {} : { title: record.title }),
        ...(record.model === undefined ? {} : { model: record.model }),
        ...(record.provider === undefined ? {} : { provider: record.provider }),
        metadata: record.metadata ?? {},
      });
    } catch (error) {
      // Deleted behind our back (another client, an external hstry): write it anew.
      if (!(error instanceof ProtocolError && error.code === "not_found")) throw error;
      await this.store.writeConversation(record, []);
    }
    this.writtenFields = key;
  }

  /**
   * Writes every queued group (with `settled`, each only up to its first tool call still waiting for
   * its result); returns the current conversation's version after the last write.
   */
  private async writeAll(settled = false): Promise<MessageVersion> {
    if (this.binding) await this.bindNow();
    const facts = this.options.facts();
    if (!facts) throw new Error("no pi session is bound");
    await this.syncFields(facts);
    let version: MessageVersion | undefined;
    for (const [piSessionId, group] of [...this.pending]) {
      const current = piSessionId === facts.piSessionId;
      const queued = [...group.rows.values()].sort((a, b) => a.idx - b.idx);
      let rows = queued.map((row) => structuredClone(row));
      applyToolCallStatus(rows);
      if (settled) {
        const waiting = rows.findIndex((row) => row.parts.some(awaitsResult));
        if (waiting >= 0) rows = rows.slice(0, waiting);
        if (rows.length === 0) continue;
      }
      const written = await this.store.appendMessages(current ? this.recordOf(facts) : group.record, rows);
      // Rows queued (or replaced) while this write was under way, or kept back, stay queued for the next one.
      for (const row of queued.slice(0, rows.length))
        if (group.rows.get(row.idx) === row) group.rows.delete(row.idx);
      if (group.rows.size === 0 && this.pending.get(piSessionId) === group) this.pending.delete(piSessionId);
      if (current) version = written;
    }
    if (!version) version = await this.currentVersion(facts);
    this.markDirty(false);
    return version;
  }

  private async currentVersion(facts: ConversationFacts): Promise<MessageVersion> {
    const stored = await this.store.getConversation(facts.piSessionId);
    if (stored) return { version: stored.version, messageCount: stored.messageCount };
    return this.store.writeConversation(this.recordOf(facts), []);
  }
}

function fieldsKey(fields: {
  title?: string | undefined;
  model?: string | undefined;
  provider?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
}): string {
  const metadata = Object.entries(fields.metadata ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify([fields.title, fields.model, fields.provider, metadata]);
}
