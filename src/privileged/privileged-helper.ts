import { chmodSync, chownSync, lstatSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Socket, UnixSocketListener } from "bun";
import {
  HELPER_MAX_LINE_BYTES,
  type HelperErrorCode,
  HelperRequest,
  type HelperResponse,
  type HelperResults,
} from "../protocol/privileged.ts";
import { LineConnection } from "../shared/line-connection.ts";
import { listenLines } from "../shared/unix-socket.ts";
import { deleteLinuxUser, ensureLinuxUser, ourAccount, RefusedError } from "./linux-users.ts";
import type { RunnerLauncher } from "./runner-launcher.ts";

export interface PrivilegedHelperOptions {
  launcher: RunnerLauncher;
  /** Where new homes go (`/home`). */
  homeBase: string;
  log: (message: string) => void;
}

/** A request that parsed: its id, for the answer, whatever else went wrong. */
function requestId(raw: unknown): number | null {
  const id = (raw as { id?: unknown } | null)?.id;
  return typeof id === "number" && Number.isSafeInteger(id) && id >= 0 ? id : null;
}

function failure(id: number | null, code: HelperErrorCode, error: string): HelperResponse {
  return { id, ok: false, code, error };
}

/**
 * The privileged helper: the one part of multi-user Oqto that runs as root. It does exactly what
 * needs root (make and delete `oqto_<name>` accounts, start and stop their runners) and nothing
 * else, for requests from the unprivileged server over a unix socket only the server's user can
 * open, each one validated against a closed set (OpenSSH's privilege separation, in miniature).
 */
export class PrivilegedHelper {
  private listener: UnixSocketListener<{ conn: LineConnection }> | undefined;

  constructor(private readonly options: PrivilegedHelperOptions) {}

  /** Answers one line. Never throws: every failure is an answer. */
  async handleLine(line: string): Promise<HelperResponse> {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      return failure(null, "invalid_request", "not JSON");
    }
    const parsed = HelperRequest.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return failure(
        requestId(raw),
        "invalid_request",
        `${issue?.path.join(".") || "request"}: ${issue?.message}`,
      );
    }
    const request = parsed.data;
    try {
      return { id: request.id, ok: true, result: { ...(await this.perform(request)) } };
    } catch (error) {
      const refused = error instanceof RefusedError;
      if (!refused) this.options.log(`${request.op} ${request.user} failed: ${(error as Error).message}`);
      return failure(request.id, refused ? "refused" : "failed", (error as Error).message);
    }
  }

  private async perform(request: HelperRequest): Promise<HelperResults[HelperRequest["op"]]> {
    const { launcher, homeBase } = this.options;
    switch (request.op) {
      case "ensure_user": {
        const user = ensureLinuxUser(request.user, { homeBase });
        if (user.created)
          this.options.log(`created Linux user ${user.account.username} (uid ${user.account.uid})`);
        return {
          linux_user: user.account.username,
          uid: user.account.uid,
          gid: user.account.gid,
          home: user.account.home,
          workspace_root: user.workspaceRoot,
          created: user.created,
        };
      }
      case "start_runner": {
        const user = ensureLinuxUser(request.user, { homeBase });
        const runner = await launcher.start(user.account, user.workspaceRoot);
        if (!runner.adopted)
          this.options.log(`started the runner of ${user.account.username} (pid ${runner.pid})`);
        return runner;
      }
      case "stop_runner": {
        const account = ourAccount(request.user);
        return { stopped: account === null ? false : await launcher.stop(account) };
      }
      case "delete_user": {
        const account = ourAccount(request.user);
        if (account === null) return { deleted: false };
        await launcher.stop(account);
        deleteLinuxUser(account, request.remove_home);
        this.options.log(
          `deleted Linux user ${account.username}${request.remove_home ? " and its home" : ""}`,
        );
        return { deleted: true };
      }
    }
  }

  /**
   * Listens on `socketPath` in a directory of its own that only `server` (uid, gid) may enter;
   * the socket itself is the server's, mode 0600. Root may always connect; nobody else can.
   */
  listen(socketPath: string, server: { uid: number; gid: number }): void {
    const dir = dirname(socketPath);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!lstatSync(dir).isDirectory()) throw new Error(`${dir} is not a directory`);
    chownSync(dir, server.uid, server.gid);
    chmodSync(dir, 0o700);
    this.listener = listenLines<{ conn: LineConnection }>(
      socketPath,
      0o600,
      (socket) => this.onOpen(socket),
      (error) => this.options.log(`helper socket error: ${error.message}`),
    );
    chownSync(socketPath, server.uid, server.gid);
  }

  private onOpen(socket: Socket<{ conn: LineConnection }>): void {
    const conn = new LineConnection(socket as Socket<unknown>, {
      maxLineBytes: HELPER_MAX_LINE_BYTES,
      maxQueuedBytes: 1024 * 1024,
      onLine: (line) => {
        void this.handleLine(line).then((response) => conn.sendJson(response));
      },
      onClose: () => {},
    });
    socket.data = { conn };
  }

  stop(): void {
    this.listener?.stop(true);
  }
}
