import { join } from "node:path";
import { linuxUserName } from "../../protocol/privileged.ts";
import type { MuxUser } from "../mux/mux-connection.ts";
import type { AccountProvisioner } from "../privileged/helper-client.ts";
import { RunnerClient } from "./runner-client.ts";
import type { RunnerFleet, RunnerFleetEvents } from "./runner-fleet.ts";

const RESTART_BACKOFF_MIN_MS = 1000;
const RESTART_BACKOFF_MAX_MS = 30_000;
const IDLE_SWEEP_MS = 30_000;
/** A cold start (account, runner, its history service) may take this long before a request gives up. */
const COLD_START_GRACE_MS = 30_000;

export interface PerUserFleetOptions {
  provisioner: AccountProvisioner;
  /** `/run/oqto`: where the helper puts each runner's socket. */
  runtimeDir: string;
  /** `/home`: where the helper puts each account's home. */
  homeBase: string;
  serverVersion: string;
  /** A runner whose user has had no request and no open socket this long is stopped. */
  idleTimeoutMs: number;
  /** Whether the user has an open WebSocket (then its runner is never idle). */
  hasSockets: (userId: string) => boolean;
  events: RunnerFleetEvents;
  log: (message: string) => void;
}

interface Entry {
  user: MuxUser;
  client: RunnerClient;
  lastUsedAt: number;
  starting: boolean;
  restartBackoffMs: number;
  restartTimer: Timer | undefined;
}

/**
 * Multi-user mode: one runner per platform user, each its own Linux user. The first request of a
 * user has the privileged helper make the account and start (or adopt) the runner; a runner that
 * goes away is asked for again with backoff; an idle one is stopped and starts again on the
 * user's next request. The server only ever connects to the sockets; it starts nothing itself.
 */
export class PerUserFleet implements RunnerFleet {
  private readonly entries = new Map<string, Entry>();
  private sweeper: Timer | undefined;

  constructor(private readonly options: PerUserFleetOptions) {}

  private linuxName(user: MuxUser): string {
    return linuxUserName(user.username);
  }

  runnerFor(user: MuxUser): RunnerClient {
    const entry = this.entries.get(user.id) ?? this.create(user);
    entry.lastUsedAt = Date.now();
    if (!entry.client.isReady) this.ensureRunning(entry);
    return entry.client;
  }

  workspaceRootFor(user: MuxUser): string {
    return join(this.options.homeBase, this.linuxName(user), "oqto");
  }

  connected(): RunnerClient[] {
    return [...this.entries.values()].map((entry) => entry.client).filter((client) => client.isReady);
  }

  private create(user: MuxUser): Entry {
    const { events } = this.options;
    const socketPath = join(this.options.runtimeDir, "runners", this.linuxName(user), "runner.sock");
    const entry: Entry = {
      user,
      lastUsedAt: Date.now(),
      starting: false,
      restartBackoffMs: RESTART_BACKOFF_MIN_MS,
      restartTimer: undefined,
      client: new RunnerClient({
        socketPath,
        serverVersion: this.options.serverVersion,
        readyGraceMs: COLD_START_GRACE_MS,
        onEvent: events.onEvent,
        onPush: (push) => events.onPush(push, user.id),
        onConnected: (hello, restarted) => {
          entry.restartBackoffMs = RESTART_BACKOFF_MIN_MS;
          events.onConnected(entry.client, user.id, hello, restarted);
        },
        onDisconnected: (reason) => {
          events.onDisconnected(user.id, reason);
          // The runner may have died: have the helper start it again (it adopts one that lives).
          this.scheduleRestart(entry);
        },
        log: (message) => this.options.log(`${this.linuxName(user)}: ${message}`),
      }),
    };
    this.entries.set(user.id, entry);
    entry.client.start();
    return entry;
  }

  private ensureRunning(entry: Entry): void {
    if (entry.starting || this.entries.get(entry.user.id) !== entry) return;
    entry.starting = true;
    clearTimeout(entry.restartTimer);
    this.options.provisioner
      .startRunner(entry.user.username)
      .then((runner) => {
        if (!runner.adopted)
          this.options.log(`started the runner of ${entry.user.username} (pid ${runner.pid})`);
        entry.client.reconnectNow();
      })
      .catch((error: Error) => {
        this.options.log(`could not start the runner of ${entry.user.username}: ${error.message}`);
        this.scheduleRestart(entry);
      })
      .finally(() => {
        entry.starting = false;
      });
  }

  private scheduleRestart(entry: Entry): void {
    if (this.entries.get(entry.user.id) !== entry) return;
    clearTimeout(entry.restartTimer);
    entry.restartTimer = setTimeout(() => {
      if (!entry.client.isReady) this.ensureRunning(entry);
    }, entry.restartBackoffMs);
    entry.restartBackoffMs = Math.min(entry.restartBackoffMs * 2, RESTART_BACKOFF_MAX_MS);
  }

  /** Forgets a user's runner (its account is gone or deactivated); the helper stops it. */
  async release(userId: string): Promise<void> {
    const entry = this.entries.get(userId);
    if (!entry) return;
    this.entries.delete(userId);
    clearTimeout(entry.restartTimer);
    entry.client.stop();
    await this.options.provisioner.stopRunner(entry.user.username).catch((error: Error) => {
      this.options.log(`could not stop the runner of ${entry.user.username}: ${error.message}`);
    });
  }

  private sweepIdle(): void {
    const cutoff = Date.now() - this.options.idleTimeoutMs;
    for (const [userId, entry] of this.entries) {
      if (entry.lastUsedAt > cutoff || this.options.hasSockets(userId)) continue;
      this.options.log(`stopping the idle runner of ${entry.user.username}`);
      void this.release(userId);
    }
  }

  start(): void {
    this.sweeper = setInterval(() => this.sweepIdle(), Math.min(IDLE_SWEEP_MS, this.options.idleTimeoutMs));
  }

  /** The runners live on (a restarted server adopts them); only the connections end. */
  async stop(): Promise<void> {
    clearInterval(this.sweeper);
    for (const entry of this.entries.values()) {
      clearTimeout(entry.restartTimer);
      entry.client.stop();
    }
    this.entries.clear();
  }
}
