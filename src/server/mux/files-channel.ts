import {
  FILES_REPLY_TYPE,
  type FilesMethod,
  FilesMuxRequest,
  ProtocolError,
  type RunnerPush,
  WatchResult,
} from "../../protocol/index.ts";
import type { RunnerClient } from "../runner/runner-client.ts";
import { assertInWorkspaceRoot } from "../workspace-scope.ts";
import type { MuxConnection, MuxUser } from "./mux-connection.ts";

const FILES_TIMEOUT_MS = 30_000;

export interface FilesChannelOptions {
  runnerFor: (user: MuxUser) => RunnerClient;
  workspaceRootFor: (user: MuxUser) => string;
  log: (message: string) => void;
}

interface Watch {
  conn: MuxConnection;
  workspacePath: string;
}

/**
 * The mux `files` channel (PROTOCOL.md §2.2): metadata and small files through the user's runner,
 * and workspace watches whose `file_changed` pushes go to the socket that asked for them.
 */
export class FilesChannel {
  /** Runner watch id -> the socket that owns it. */
  private readonly watches = new Map<string, Watch>();

  constructor(private readonly options: FilesChannelOptions) {}

  async handle(conn: MuxConnection, raw: Record<string, unknown>): Promise<void> {
    const accepted = conn.accept("files", FilesMuxRequest, raw, "files");
    if (!accepted) return;
    const { id } = accepted;
    const { channel: _channel, id: _id, type, ...params } = accepted.frame;
    const reply = (body: object) =>
      conn.sendJson({
        channel: "files",
        ...(id === undefined ? {} : { id }),
        type: FILES_REPLY_TYPE[type],
        ...body,
      });
    try {
      assertInWorkspaceRoot(this.options.workspaceRootFor(conn.user), params.workspace_path);
      const runner = this.options.runnerFor(conn.user);
      if (type === "watch") {
        reply({
          workspace_path: params.workspace_path,
          watch_id: await this.watch(conn, params.workspace_path),
        });
      } else if (type === "unwatch") {
        await this.unwatch(conn, params.workspace_path);
        reply({ workspace_path: params.workspace_path });
      } else {
        reply(
          (await runner.request(`files.${type}` as FilesMethod, params as never, FILES_TIMEOUT_MS)) as object,
        );
      }
    } catch (error) {
      const known = error instanceof ProtocolError;
      if (!known) this.options.log(`files ${type} failed: ${(error as Error).stack}`);
      conn.sendError("files", known ? error.code : "internal", (error as Error).message, id);
    } finally {
      conn.release("files");
    }
  }

  /** Routes a runner `file_changed` push to the socket that owns the watch. */
  onPush(push: RunnerPush): void {
    if (push.type !== "file_changed") return;
    const watch = this.watches.get(push.watch_id);
    if (!watch || watch.conn.closed) return;
    const { type: _t, watch_id: _w, ...change } = push;
    watch.conn.sendJson({ channel: "files", type: "file_changed", ...change });
  }

  /** A socket closed: its watches end. */
  release(conn: MuxConnection): void {
    for (const [watchId, watch] of this.watches) {
      if (watch.conn !== conn) continue;
      this.watches.delete(watchId);
      this.options
        .runnerFor(conn.user)
        .request("files.unwatch", { watch_id: watchId }, FILES_TIMEOUT_MS)
        .catch(() => {});
    }
  }

  /** After a runner restart its watches are gone: ask for them again. */
  async rewatchAll(userId?: string): Promise<void> {
    const previous: Watch[] = [];
    for (const [watchId, watch] of this.watches) {
      if (userId !== undefined && watch.conn.user.id !== userId) continue;
      previous.push(watch);
      this.watches.delete(watchId);
    }
    for (const { conn, workspacePath } of previous) {
      if (conn.closed) continue;
      await this.watch(conn, workspacePath).catch((error: Error) =>
        this.options.log(`re-watch of ${workspacePath} failed: ${error.message}`),
      );
    }
  }

  private async watch(conn: MuxConnection, workspacePath: string): Promise<string> {
    for (const [watchId, watch] of this.watches) {
      if (watch.conn === conn && watch.workspacePath === workspacePath) return watchId;
    }
    const raw = await this.options
      .runnerFor(conn.user)
      .request("files.watch", { workspace_path: workspacePath }, FILES_TIMEOUT_MS);
    const { watch_id } = WatchResult.parse(raw);
    this.watches.set(watch_id, { conn, workspacePath });
    return watch_id;
  }

  private async unwatch(conn: MuxConnection, workspacePath: string): Promise<void> {
    for (const [watchId, watch] of this.watches) {
      if (watch.conn !== conn || watch.workspacePath !== workspacePath) continue;
      this.watches.delete(watchId);
      await this.options
        .runnerFor(conn.user)
        .request("files.unwatch", { watch_id: watchId }, FILES_TIMEOUT_MS);
      return;
    }
    throw new ProtocolError("not_found", `no watch on ${workspacePath}`);
  }
}
