import type { RunnerHello, RunnerPush } from "../../protocol/index.ts";
import type { MuxUser } from "../mux/mux-connection.ts";
import type { RunnerClient } from "./runner-client.ts";

/**
 * What the server does when a runner's connection comes and goes. `userId` names the one platform
 * user a runner serves (multi-user mode), or is undefined for the one runner every user shares.
 */
export interface RunnerFleetEvents {
  /** Raw event lines, unparsed (the relay hot path). */
  onEvent: (line: string) => void;
  /** `userId`: whose runner pushed it (see above). */
  onPush: (push: RunnerPush, userId: string | undefined) => void;
  onConnected: (
    runner: RunnerClient,
    userId: string | undefined,
    hello: RunnerHello,
    restarted: boolean,
  ) => void;
  onDisconnected: (userId: string | undefined, reason: string) => void;
}

/** The runners the server talks to: one shared (single-user mode) or one per platform user. */
export interface RunnerFleet {
  /** The runner that serves `user`; in multi-user mode it is started (or adopted) on first use. */
  runnerFor(user: MuxUser): RunnerClient;
  /** The root of `user`'s workspaces, as their runner sees it. */
  workspaceRootFor(user: MuxUser): string;
  /** Every runner that is connected now (provider changes go to each). */
  connected(): RunnerClient[];
  /** Stops the runner of a user whose access ended (multi-user mode; the shared runner serves on). */
  release(userId: string): Promise<void>;
  start(): void;
  /** Stops talking to the runners: single-user mode also ends its own runner, multi-user runners live on. */
  stop(): Promise<void>;
}
