import type { Config } from "../../config/schema.ts";
import type { Role } from "../../protocol/rest.ts";
import type { Auth } from "../auth/index.ts";
import type { AccountProvisioner } from "../privileged/helper-client.ts";
import type { Store, UserRecord } from "../store/index.ts";

/**
 * Told of the account changes that concern a user's LLM credential (eavs mode: the user's virtual key).
 * Every call returns at once and never throws: an LLM back end that is down must not stop an account
 * change. Failures are logged and shown to admins (`GET /api/admin/eavs/status`).
 */
export interface AccountLlmHooks {
  /** After the account exists (admin create, setup, registration). */
  created(user: UserRecord): void;
  /** After an admin changed the user's access; `user` is the updated record. */
  accessChanged(user: UserRecord, change: { is_active?: boolean; role?: Role }): void;
  /** After the account is deleted. */
  deleted(userId: string): void;
}

/** What the account routes need: the DB, auth, and a way to close a user's open WebSockets. */
export interface AccountDeps {
  config: Config;
  store: Store;
  auth: Auth;
  /** Closes every open WebSocket of the user (their credentials were just revoked). */
  closeSocketsOf: (userId: string) => void;
  /** Multi-user mode: makes each user's Linux account (registration needs it). */
  provisioner?: AccountProvisioner;
  /** Multi-user mode: stops the runner of a deactivated or deleted user (the next request would start it). */
  releaseRunner?: (userId: string) => Promise<void>;
  /** eavs mode: each user's virtual key follows their account. */
  llmKeys?: AccountLlmHooks;
}
