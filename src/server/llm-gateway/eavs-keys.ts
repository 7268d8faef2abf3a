/**
 * One eavs virtual key per Oqto user (EAVS.md §6), kept sealed in the platform DB, following the account:
 * made when the user is created (or lazily, at the user's first LLM request, when that failed or the user
 * came from `oqto user add`), disabled in eavs when the user is deactivated or deleted, and made anew with
 * the new permissions when an admin changes the user's or their role's limits.
 */
import type { EavsClient } from "../../llm/eavs/eavs-client.ts";
import { toEavsPermissions } from "../../llm/eavs/eavs-permissions.ts";
import type { EavsPermissions } from "../../llm/eavs/eavs-schemas.ts";
import type { LimitScope, LlmLimits } from "../../protocol/llm.ts";
import type { Role } from "../../protocol/rest.ts";
import type { AccountLlmHooks } from "../accounts/account-deps.ts";
import { ApiError } from "../http-errors.ts";
import type { Store, UserRecord } from "../store/index.ts";
import type { KeyVault } from "./key-vault.ts";
import { effectiveLimits } from "./limit-guard.ts";

/** The name eavs lists the key under. */
export function eavsKeyName(userId: string): string {
  return `oqto-user-${userId}`;
}

/** A match-everything glob: blocks every model in `blocked_models`. */
const EVERY_MODEL = "*";

/**
 * Oqto's limits as eavs key permissions, a backstop behind the gateway's own checks (LimitGuard, which
 * stays authoritative): eavs never refuses what Oqto allows, and refuses everything when Oqto would.
 * - `models` (`provider/model`, a trailing `*` a prefix): the model parts become `allowed_models`, the
 *   provider parts `allowed_providers`; a pattern whose provider part is itself a prefix allows every
 *   model and provider. An empty list, `rpm: 0` or `tpm: 0` block every model.
 * - one USD budget: eavs holds one per key, so the monthly one when set, else the daily one.
 * - token budgets have no eavs counterpart (only Oqto enforces them). Fields left out get eavs' own
 *   defaults (`keys.default_rpm_limit`, `keys.default_budget_usd`).
 */
export function eavsPermissionsFor(limits: LlmLimits): EavsPermissions {
  let allowedModels: string[] | undefined;
  let allowedProviders: string[] | undefined;
  let blockAll = limits.rpm === 0 || limits.tpm === 0;
  if (limits.models !== undefined) {
    if (limits.models.length === 0) blockAll = true;
    const models = new Set<string>();
    const providers = new Set<string>();
    let anyProvider = false;
    for (const pattern of limits.models) {
      const slash = pattern.indexOf("/");
      if (slash < 0) {
        // `open*` is a prefix of `provider/model` strings; a bare `openrouter` matches no id at all.
        if (pattern.endsWith("*")) {
          models.add(EVERY_MODEL);
          anyProvider = true;
        }
        continue;
      }
      providers.add(pattern.slice(0, slash));
      models.add(pattern.slice(slash + 1) || EVERY_MODEL);
    }
    if (models.size === 0) blockAll = true;
    else if (!models.has(EVERY_MODEL)) allowedModels = [...models];
    if (!anyProvider && providers.size > 0) allowedProviders = [...providers];
  }
  const budget =
    limits.monthly_budget_usd !== undefined
      ? { budget_usd: limits.monthly_budget_usd, budget_window: "monthly" as const }
      : limits.daily_budget_usd !== undefined
        ? { budget_usd: limits.daily_budget_usd, budget_window: "daily" as const }
        : {};
  const permissions = toEavsPermissions({
    ...(allowedModels && { allowed_models: allowedModels }),
    ...(limits.rpm !== undefined && limits.rpm > 0 && { rpm: Math.min(limits.rpm, 4_294_967_295) }),
    ...(limits.tpm !== undefined && limits.tpm > 0 && { tpm: Math.min(limits.tpm, 4_294_967_295) }),
    ...budget,
  });
  return {
    ...permissions,
    ...(allowedProviders && { allowed_providers: allowedProviders }),
    ...(blockAll && { blocked_models: [EVERY_MODEL] }),
  };
}

/** A user's key, opened: what the gateway puts into the request to eavs. */
export interface OpenKey {
  keyId: string;
  key: string;
}

/** What went wrong with a user's key last (cleared by the next success). */
export interface KeyProblem {
  message: string;
  at: number;
}

export interface EavsKeysDeps {
  store: Store;
  vault: KeyVault;
  client: EavsClient;
  log: (message: string) => void;
  now?: () => number;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The key lifecycle. The account hooks return at once; the eavs calls run behind them, one at a time per
 * user (a re-creation never races a revocation), and never throw: failures are logged and kept for the
 * admin's status view, and a key that could not be disabled stays queued in the DB and is retried (next
 * account change, provider sync, serve start).
 */
export class EavsKeys implements AccountLlmHooks {
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly background = new Set<Promise<unknown>>();
  private readonly problems = new Map<string, KeyProblem>();
  private flushing: Promise<void> | undefined;
  private flushAgain = false;
  private readonly now: () => number;

  constructor(private readonly deps: EavsKeysDeps) {
    this.now = deps.now ?? Date.now;
  }

  // --- account hooks (never throw, never wait) ---

  created(user: UserRecord): void {
    this.track(this.ensure(user.id));
  }

  accessChanged(user: UserRecord, change: { is_active?: boolean; role?: Role }): void {
    if (!user.is_active) {
      // Removed at once (the gateway refuses a deactivated user anyway); eavs is told behind it.
      this.deps.store.eavsKeys.remove(user.id);
      this.problems.delete(user.id);
      this.track(this.flushRevocations());
    } else if (change.role !== undefined) {
      this.track(this.recreate(user.id));
    } else if (change.is_active === true) {
      this.track(this.ensure(user.id));
    }
  }

  deleted(userId: string): void {
    // The row went with the user (ON DELETE CASCADE) and its key into the revocation queue (trigger).
    this.problems.delete(userId);
    this.track(this.flushRevocations());
  }

  /** After an admin set or cleared limits: the affected users' keys are made anew with them. */
  limitsChanged(scope: LimitScope, subject: string): void {
    const withKeys = new Set(this.deps.store.eavsKeys.list().map((row) => row.user_id));
    const affected =
      scope === "user"
        ? [subject]
        : this.deps.store.users
            .list()
            .filter((user) => user.role === subject)
            .map((user) => user.id);
    // A user without a key gets one with the current limits at their first request.
    for (const userId of affected) if (withKeys.has(userId)) this.track(this.recreate(userId));
  }

  // --- for the gateway and serve ---

  /** The user's key, made now when they have none (or it no longer opens); an error says why not. */
  async keyOf(userId: string): Promise<OpenKey | { reason: string }> {
    const stored = this.open(userId);
    if (stored) return stored;
    try {
      return await this.ensure(userId);
    } catch (error) {
      return { reason: `no eavs key could be made for your account (${messageOf(error)})` };
    }
  }

  /** Removes the keys of users deactivated behind serve's back, and retries the queued revocations. */
  async reconcile(): Promise<void> {
    const removed = this.deps.store.eavsKeys.removeInactive();
    if (removed > 0) this.deps.log(`eavs: ${removed} key(s) of deactivated users queued for revocation`);
    await this.flushRevocations();
  }

  /** Disables every queued key in eavs; one pass at a time, another after it when asked meanwhile. */
  flushRevocations(): Promise<void> {
    if (this.flushing) {
      this.flushAgain = true;
      return this.flushing;
    }
    const run = async () => {
      do {
        this.flushAgain = false;
        for (const pending of this.deps.store.eavsKeys.pendingRevocations()) {
          try {
            await this.deps.client.deleteKey(pending.key_id);
            this.deps.store.eavsKeys.revoked(pending.key_id);
          } catch (error) {
            if (error instanceof ApiError && error.details?.eavs_status === 404) {
              // eavs does not know it (deleted there, or another eavs DB): nothing left to disable.
              this.deps.store.eavsKeys.revoked(pending.key_id);
              continue;
            }
            const message = messageOf(error);
            this.deps.store.eavsKeys.revocationFailed(pending.key_id, message);
            this.deps.log(
              `eavs: the key ${pending.key_id} (user ${pending.user_id}) is still live in eavs: ${message}`,
            );
          }
        }
      } while (this.flushAgain);
    };
    this.flushing = run().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** The last problem per user (for the admin's status view). */
  problemsByUser(): ReadonlyMap<string, KeyProblem> {
    return this.problems;
  }

  /** Resolves when every background call started so far (and those they started) has ended. */
  async idle(): Promise<void> {
    while (this.background.size > 0 || this.flushing) {
      await Promise.allSettled([...this.background, this.flushing]);
    }
  }

  // --- internals ---

  /** The stored key, opened; undefined when there is none or it does not open (it is then replaced). */
  private open(userId: string): OpenKey | undefined {
    const row = this.deps.store.eavsKeys.get(userId);
    if (!row) return undefined;
    try {
      return { keyId: row.key_id, key: this.deps.vault.open(row.key_sealed, sealContext(userId)) };
    } catch (error) {
      this.deps.log(`eavs: the key of user ${userId} does not open, a new one is made: ${messageOf(error)}`);
      return undefined;
    }
  }

  /** Runs `task` after the user's earlier ones (each user's eavs calls happen in order). */
  private serialized<T>(userId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(userId) ?? Promise.resolve();
    const next = previous.then(task, task);
    const settled = next.catch(() => {});
    this.chains.set(userId, settled);
    void settled.then(() => {
      if (this.chains.get(userId) === settled) this.chains.delete(userId);
    });
    return next;
  }

  private track(task: Promise<unknown>): void {
    const tracked = task.catch(() => {});
    this.background.add(tracked);
    void tracked.then(() => this.background.delete(tracked));
  }

  /** The user's key, made when missing. */
  private ensure(userId: string): Promise<OpenKey> {
    return this.serialized(userId, async () => {
      const existing = this.open(userId);
      if (existing) return existing;
      try {
        return await this.make(userId);
      } catch (error) {
        this.fail(userId, `no eavs key could be made for this account: ${messageOf(error)}`);
        throw error;
      }
    });
  }

  /** A new key with the user's current limits; the old one is revoked once the new one is stored. */
  private recreate(userId: string): Promise<unknown> {
    return this.serialized(userId, async () => {
      try {
        await this.make(userId);
      } catch (error) {
        this.fail(
          userId,
          `the eavs key still has its old limits (Oqto enforces the new ones): ${messageOf(error)}`,
        );
      }
    });
  }

  /** Creates and stores a key for an active user (replacing theirs); the replaced key is revoked after. */
  private async make(userId: string): Promise<OpenKey> {
    const { store } = this.deps;
    const user = store.users.byId(userId);
    if (!user) throw new Error("the account no longer exists");
    if (!user.is_active) throw new Error("the account is deactivated");
    const created = await this.deps.client.createKey({
      name: eavsKeyName(user.id),
      permissions: eavsPermissionsFor(effectiveLimits(store, user)),
      metadata: { oqto_user_id: user.id },
    });
    const sealed = this.deps.vault.seal(created.key, sealContext(user.id));
    // The account may have gone or been deactivated while eavs made the key: then it is revoked at once.
    const current = store.users.byId(user.id);
    if (!current?.is_active) {
      store.eavsKeys.queueRevocation(created.key_id, user.id, "orphaned", this.now());
      this.track(this.flushRevocations());
      throw new Error(current ? "the account was deactivated" : "the account was deleted");
    }
    store.eavsKeys.put(user.id, created.key_id, sealed, this.now());
    this.problems.delete(user.id);
    // A replaced key is disabled behind the request that needed the new one.
    this.track(this.flushRevocations());
    return { keyId: created.key_id, key: created.key };
  }

  private fail(userId: string, message: string): void {
    const user = this.deps.store.users.byId(userId);
    // A deleted account has nothing left to show an admin.
    if (user) this.problems.set(userId, { message, at: this.now() });
    this.deps.log(`eavs: user '${user?.username ?? userId}': ${message}`);
  }
}

/** The associated data a user's key is sealed with: a sealed key copied to another user does not open. */
function sealContext(userId: string): string {
  return `eavs-key:${userId}`;
}
