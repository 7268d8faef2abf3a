/** What a Session is made from: the runner's services it uses, and the facts it starts with. */
import type { Config } from "../config/schema.ts";
import type { HistoryStore } from "../history/history-store.ts";
import type { ResolvedPi } from "./pi-install.ts";
import type { PiPool } from "./pi-pool/pi-pool.ts";
import type { AgentWrapper } from "./sandbox/wrap.ts";
import type { SessionIndex } from "./session-index.ts";

export interface SessionDeps {
  runnerId: string;
  config: Config;
  pi: ResolvedPi;
  home: string;
  agentDir: string;
  index: SessionIndex;
  /** Receives the broadcast lines of subscribed sessions. */
  sink(sessionId: string, line: string): void;
  log(message: string): void;
  /** Throws `busy` when no further pi process may start (runner.max_sessions). */
  reserveProcess(): void;
  /** Wraps pi's argv in the workspace's sandbox; throws `sandbox_error` rather than start it unsandboxed. */
  wrapAgent?: AgentWrapper;
  /** Warm pi spares for new sessions; none: every session starts its own pi. */
  pool?: PiPool | undefined;
  /** Where conversations are persisted; without it pi's session file is the only record. */
  history?: HistoryStore | undefined;
}

export interface SessionInit {
  id: string;
  workspacePath: string;
  provider?: string | undefined;
  model?: string | undefined;
  piSessionId?: string | undefined;
  piSessionFile?: string | undefined;
  title?: string | undefined;
  createdAt?: number | undefined;
}
