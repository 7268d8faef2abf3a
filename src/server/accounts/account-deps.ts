import type { Config } from "../../config/schema.ts";
import type { Auth } from "../auth/index.ts";
import type { AccountProvisioner } from "../privileged/helper-client.ts";
import type { Store } from "../store/index.ts";

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
}
