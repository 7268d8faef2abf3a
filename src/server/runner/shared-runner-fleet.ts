import type { MuxUser } from "../mux/mux-connection.ts";
import { RunnerClient } from "./runner-client.ts";
import type { RunnerFleet, RunnerFleetEvents } from "./runner-fleet.ts";
import type { RunnerSupervisor } from "./runner-supervisor.ts";

export interface SharedRunnerFleetOptions {
  socketPath: string;
  workspaceRoot: string;
  serverVersion: string;
  /** Starts and restarts the runner as a child of serve; absent when it is managed elsewhere. */
  supervisor?: RunnerSupervisor;
  events: RunnerFleetEvents;
  log: (message: string) => void;
}

/** Single-user mode: one runner, as one Linux user, serves every platform user of this server. */
export class SharedRunnerFleet implements RunnerFleet {
  private readonly runner: RunnerClient;

  constructor(private readonly options: SharedRunnerFleetOptions) {
    const { events } = options;
    this.runner = new RunnerClient({
      socketPath: options.socketPath,
      serverVersion: options.serverVersion,
      onEvent: events.onEvent,
      onPush: (push) => events.onPush(push, undefined),
      onConnected: (hello, restarted) => events.onConnected(this.runner, undefined, hello, restarted),
      onDisconnected: (reason) => events.onDisconnected(undefined, reason),
      log: options.log,
    });
  }

  runnerFor(_user: MuxUser): RunnerClient {
    return this.runner;
  }

  workspaceRootFor(_user: MuxUser): string {
    return this.options.workspaceRoot;
  }

  connected(): RunnerClient[] {
    return this.runner.isReady ? [this.runner] : [];
  }

  async release(_userId: string): Promise<void> {}

  start(): void {
    this.options.supervisor?.start();
    this.runner.start();
  }

  async stop(): Promise<void> {
    if (this.runner.isReady)
      await this.runner.request("runner.shutdown", { grace_s: 3 }, 8_000).catch(() => {});
    this.runner.stop();
    await this.options.supervisor?.stop();
  }
}
