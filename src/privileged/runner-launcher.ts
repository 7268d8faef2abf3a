import { spawn } from "node:child_process";
import {
  chmodSync,
  chownSync,
  closeSync,
  constants,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { LinuxAccount } from "../shared/linux-account.ts";
import { isSocketAnswering } from "../shared/unix-socket.ts";
import { processUid, RefusedError } from "./linux-users.ts";

export interface RunnerLauncherOptions {
  /** `/run/oqto`: `runners/<user>/runner.sock` (the user's, group = the server's) and `helper/<user>.pid` (root's). */
  runtimeDir: string;
  /** Root-owned; one log file per runner. */
  logDir: string;
  /** The server's group: it may open every runner's socket, nobody else may. */
  serverGid: number;
  /** argv that runs `oqto runner` (the helper's own binary), without its arguments. */
  runnerCommand: string[];
  /** Passed on to each runner as --config when set. */
  configFile?: string;
  /** How long a new runner may take to answer on its socket. */
  startTimeoutMs?: number;
}

export interface RunnerHandle {
  socket: string;
  pid: number;
  adopted: boolean;
}

/** A clean environment: nothing of root's or the server's reaches a user's runner. */
export function runnerEnvironment(account: LinuxAccount): Record<string, string> {
  return {
    HOME: account.home,
    USER: account.username,
    LOGNAME: account.username,
    SHELL: account.shell,
    PATH: "/usr/local/bin:/usr/bin:/bin",
    LANG: "C.UTF-8",
    XDG_CONFIG_HOME: join(account.home, ".config"),
    XDG_DATA_HOME: join(account.home, ".local/share"),
    XDG_STATE_HOME: join(account.home, ".local/state"),
    XDG_CACHE_HOME: join(account.home, ".cache"),
  };
}

/** A directory made or fixed as root, never through a symlink. */
function rootDirectory(path: string, mode: number, uid: number, gid: number): void {
  mkdirSync(path, { recursive: true, mode });
  const stat = lstatSync(path);
  if (!stat.isDirectory()) throw new RefusedError(`${path} is not a directory`);
  chownSync(path, uid, gid);
  chmodSync(path, mode);
}

/**
 * Starts and stops the users' runners. Each runner is its own session (setsid), so it outlives the
 * server and the helper: a restarted helper finds it by its pid file (root's, in a root-only dir)
 * and adopts it, checking that the pid is still that user's runner. Requests for one user are
 * serialized, so there is never a second runner per user.
 */
export class RunnerLauncher {
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly options: RunnerLauncherOptions) {
    // runners/ lets each user through to its own directory but not list the others.
    rootDirectory(join(options.runtimeDir, "runners"), 0o711, 0, 0);
    rootDirectory(join(options.runtimeDir, "helper"), 0o700, 0, 0);
    rootDirectory(options.logDir, 0o750, 0, 0);
  }

  socketPath(account: LinuxAccount): string {
    return join(this.options.runtimeDir, "runners", account.username, "runner.sock");
  }

  private pidFile(account: LinuxAccount): string {
    return join(this.options.runtimeDir, "helper", `${account.username}.pid`);
  }

  /** One request at a time per user. */
  private serialized<T>(account: LinuxAccount, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(account.username) ?? Promise.resolve();
    const next = previous.then(work, work);
    this.queues.set(
      account.username,
      next.catch(() => {}),
    );
    return next;
  }

  /** The pid of the user's live runner, from the pid file, checked against /proc; null when there is none. */
  livePid(account: LinuxAccount): number | null {
    let pid: number;
    try {
      pid = Number(readFileSync(this.pidFile(account), "utf8").trim());
    } catch {
      return null;
    }
    if (!Number.isInteger(pid) || pid <= 1 || processUid(pid) !== account.uid) return null;
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      return argv.includes("runner") ? pid : null;
    } catch {
      return null;
    }
  }

  start(account: LinuxAccount, workspaceRoot: string): Promise<RunnerHandle> {
    return this.serialized(account, async () => {
      const socket = this.socketPath(account);
      const running = this.livePid(account);
      if (running !== null) return { socket, pid: running, adopted: true };
      return { socket, pid: await this.launch(account, workspaceRoot), adopted: false };
    });
  }

  private async launch(account: LinuxAccount, workspaceRoot: string): Promise<number> {
    const socket = this.socketPath(account);
    // Owner the user, group the server's, setgid: the socket the runner makes there gets the
    // server's group, and with mode 0660 only that user and the server can connect.
    const dir = join(this.options.runtimeDir, "runners", account.username);
    rootDirectory(dir, 0o2750, account.uid, this.options.serverGid);
    const logPath = join(this.options.logDir, `runner-${account.username}.log`);
    const log = openSync(
      logPath,
      constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW,
      0o640,
    );
    let pid: number;
    try {
      const argv = [
        "--reuid",
        String(account.uid),
        "--regid",
        String(account.gid),
        "--init-groups",
        "--inh-caps=-all",
        "--",
        ...this.options.runnerCommand,
        "runner",
        "--data-dir",
        join(account.home, ".local/share/oqto"),
        "--workspace-root",
        workspaceRoot,
        "--socket",
        socket,
        "--socket-mode",
        "0660",
        ...(this.options.configFile ? ["--config", this.options.configFile] : []),
      ];
      const child = spawn("setpriv", argv, {
        detached: true,
        stdio: ["ignore", log, log],
        env: runnerEnvironment(account),
        cwd: account.home,
      });
      child.unref();
      if (child.pid === undefined) throw new Error("setpriv did not start");
      pid = child.pid;
    } finally {
      closeSync(log);
    }
    writeFileSync(this.pidFile(account), `${pid}\n`, { mode: 0o600 });
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 20_000);
    while (Date.now() < deadline) {
      if (await isSocketAnswering(socket, 500)) return pid;
      if (processUid(pid) === null) break;
      await Bun.sleep(50);
    }
    this.kill(pid, account);
    rmSync(this.pidFile(account), { force: true });
    const tail = readFileSync(logPath, "utf8").split("\n").slice(-15).join("\n");
    throw new Error(`the runner of ${account.username} did not start; its log ends:\n${tail}`);
  }

  private kill(pid: number, account: LinuxAccount): void {
    if (processUid(pid) !== account.uid) return;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone already
    }
  }

  /** SIGTERM (the runner ends its sessions), SIGKILL after `graceMs`. False when none was running. */
  stop(account: LinuxAccount, graceMs = 8000): Promise<boolean> {
    return this.serialized(account, async () => {
      const pid = this.livePid(account);
      rmSync(this.pidFile(account), { force: true });
      if (pid === null) return false;
      process.kill(pid, "SIGTERM");
      const deadline = Date.now() + graceMs;
      while (processUid(pid) === account.uid && Date.now() < deadline) await Bun.sleep(50);
      this.kill(pid, account);
      return true;
    });
  }
}
