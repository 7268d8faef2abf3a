/**
 * Binds a session to the pi session its process runs: pi's state (ids, model, title) becomes the
 * session's, live messages are numbered after the ones pi holds, history is bound, and pi's events
 * reach the session through a translator.
 */
import { join } from "node:path";
import { z } from "zod";
import { ProtocolError } from "../protocol/common.ts";
import type { EventPayload } from "../protocol/events.ts";
import type { Message } from "../protocol/message.ts";
import { countConversationMessages, mapPiConversation } from "./harness/pi/message-mapper.ts";
import { type PiEvent, PiMessagesData, PiState } from "./harness/pi/pi-schemas.ts";
import { PiTranslator, type TranslatorHooks } from "./harness/pi/translator.ts";
import type { ConversationSync, Lineage } from "./history/conversation-sync.ts";
import { readSettings, SETTINGS_FILE } from "./models-files.ts";
import type { Session } from "./session.ts";
import { readPiSessionMessages } from "./session-files.ts";
import type { PendingInputs } from "./session-inputs.ts";
import type { TurnTracker } from "./session-turns.ts";

export interface PiBindingContext {
  session: Session;
  turns: TurnTracker;
  inputs: PendingInputs;
  history: ConversationSync | undefined;
  agentDir: string;
  /** The session is bound (idle or streaming): its idle timer may start. */
  bound(): void;
  log(message: string): void;
}

export class PiBinding {
  private current: PiTranslator | undefined;

  constructor(private readonly ctx: PiBindingContext) {}

  /** Translates the bound process's events; undefined from a new start until pi's state is taken over. */
  get translator(): PiTranslator | undefined {
    return this.current;
  }

  /** A new process starts: nothing is bound until it answered. */
  reset(): void {
    this.current = undefined;
  }

  handle(event: PiEvent): void {
    if (this.current) this.current.handle(event);
    else this.ctx.log(`pi event ${event.type} before the session was bound`);
  }

  /** Takes pi's `get_state` answer into the session; `session.created` opens a new stream. */
  async bind(data: unknown, resumed: boolean, lineage?: Lineage): Promise<void> {
    const { session, turns, history } = this.ctx;
    const state = parsePiState(data);
    session.resumed = resumed;
    session.piSessionId = state.sessionId;
    if (state.sessionFile) session.piSessionFile = state.sessionFile;
    if (state.model) {
      session.provider = state.model.provider;
      session.model = state.model.id;
    }
    if (state.sessionName) session.title = state.sessionName;
    const firstIdx = await countPiMessages(session, state);
    turns.autoRetry = await readAutoRetrySetting(session.workspacePath, this.ctx.agentDir);
    this.current = new PiTranslator(session.id, firstIdx, this.hooks());
    session.saveIndex();
    await history?.bind({ messageCount: firstIdx, loadMessages: () => this.piConversation(), lineage });
    session.state = turns.open ? "streaming" : "idle";
    if (session.seq === 0) {
      session.emit("session.created", {
        resumed,
        harness: "pi",
        workspace_path: session.workspacePath,
        ...(session.piSessionId ? { pi_session_id: session.piSessionId } : {}),
      });
    }
    this.ctx.bound();
  }

  /** The whole pi conversation as canonical messages (history backfill reads it). */
  private async piConversation(): Promise<Message[]> {
    const { session } = this.ctx;
    let messages = session.piSessionFile ? await readPiSessionMessages(session.piSessionFile) : undefined;
    if (!messages && session.isRunning) {
      const data = PiMessagesData.safeParse(await session.requestData({ type: "get_messages" }));
      if (data.success) messages = data.data.messages;
    }
    return mapPiConversation(session.id, messages ?? [], (idx) => this.current?.clientIdAt(idx));
  }

  private hooks(): TranslatorHooks {
    const { session, turns, inputs, history } = this.ctx;
    return {
      emit: (event, payload) => {
        session.emit(event, payload);
        if (event !== "stream.message_end") return;
        const { message } = payload as EventPayload<"stream.message_end">;
        history?.record(message);
        // The prompt is in history at once, not only at the turn's end: a runner killed mid-turn keeps it.
        if (message.role === "user") void history?.flush({ settled: true });
        if (session.title === undefined) this.titleFromFirstMessage(message);
      },
      agentStarted: () => turns.agentStarted(),
      agentEnded: (lastStopReason) => turns.agentEnded(lastStopReason),
      autoRetryStarted: () => turns.autoRetryStarted(),
      compactionEnded: (willRetry) => turns.compactionEnded(willRetry),
      titleChanged: (title) => {
        session.title = title;
        session.saveIndex();
        history?.touch();
      },
      inputRequested: (request, timeoutMs) => inputs.add(request, timeoutMs),
      log: (message) => this.ctx.log(message),
    };
  }

  /** Until pi names the session, its title is the first user message (80 chars), as history does. */
  private titleFromFirstMessage(message: Message): void {
    if (message.role !== "user") return;
    const text = message.parts
      .flatMap((part) => (part.type === "text" ? [part.text] : []))
      .join(" ")
      .replace(/\s+/g, " ")
      .trim();
    if (!text) return;
    const { session } = this.ctx;
    session.title = text.length > 80 ? `${text.slice(0, 79)}…` : text;
    session.saveIndex();
    this.ctx.history?.touch();
    session.emit("session.title_changed", { title: session.title });
  }
}

const RetrySetting = z.looseObject({ retry: z.looseObject({ enabled: z.boolean().optional() }).optional() });

/** pi's `get_state` answer; a mismatch is pi's fault (`harness_error`). */
function parsePiState(data: unknown): PiState {
  const parsed = PiState.safeParse(data);
  if (!parsed.success)
    throw new ProtocolError("harness_error", `unexpected get_state answer: ${parsed.error.message}`);
  return parsed.data;
}

/** Messages already in the pi session, so live idx numbering continues after them. */
async function countPiMessages(
  session: Pick<Session, "piSessionFile" | "requestData">,
  state: PiState,
): Promise<number> {
  if (!state.messageCount) return 0;
  const fromFile = session.piSessionFile ? await readPiSessionMessages(session.piSessionFile) : undefined;
  if (fromFile) return countConversationMessages(fromFile);
  const data = PiMessagesData.safeParse(await session.requestData({ type: "get_messages" }));
  if (!data.success)
    throw new ProtocolError("harness_error", `unexpected get_messages answer: ${data.error.message}`);
  return countConversationMessages(data.data.messages);
}

/** pi's `retry.enabled` (default true): project settings override the agent dir's. */
async function readAutoRetrySetting(workspacePath: string, agentDir: string): Promise<boolean> {
  const read = async (file: string) => {
    try {
      return RetrySetting.safeParse(await readSettings(file)).data?.retry?.enabled;
    } catch {
      // An unreadable settings file is pi's problem to report; assume its default.
      return undefined;
    }
  };
  return (
    (await read(join(workspacePath, ".pi", SETTINGS_FILE))) ??
    (await read(join(agentDir, SETTINGS_FILE))) ??
    true
  );
}
