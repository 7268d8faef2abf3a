import { z } from "zod";
import {
  FileChangeType,
  PathResult,
  TransferResult,
  TreeResult,
  WriteResult,
} from "../../../../src/protocol/index.ts";
import { bytesToBase64 } from "../../lib/base64.ts";
import type { MuxClient } from "../../lib/mux-client.ts";

/** A change in a watched workspace, as the files channel pushes it (PROTOCOL.md §2.2). */
const FileChanged = z.object({
  type: z.literal("file_changed"),
  workspace_path: z.string(),
  event_type: FileChangeType,
  path: z.string(),
  entry_type: z.enum(["file", "directory"]),
});
export type FileChanged = z.infer<typeof FileChanged>;

const WatchReply = z.object({ watch_id: z.string() });
const UnwatchReply = z.object({ workspace_path: z.string() });

/** Entries listed per tree request; a directory with more gets "load more". */
export const TREE_PAGE = 500;

/** The mux files channel for one workspace: every request names it, paths are relative to it. */
export class FilesClient {
  constructor(
    private readonly mux: MuxClient,
    readonly workspacePath: string,
  ) {}

  /** One directory level (depth 1) from `offset`. */
  list(path: string, offset = 0) {
    return this.call({ type: "tree", path, depth: 1, offset, limit: TREE_PAGE }, TreeResult);
  }

  /** Atomic write of the whole file (temp file + rename on the runner). */
  write(path: string, bytes: Uint8Array, options: { overwrite: boolean; createParents: boolean }) {
    return this.call(
      {
        type: "write",
        path,
        content: bytesToBase64(bytes),
        overwrite: options.overwrite,
        create_parents: options.createParents,
      },
      WriteResult,
    );
  }

  createDirectory(path: string) {
    return this.call({ type: "create_directory", path, create_parents: true }, PathResult);
  }

  delete(path: string, recursive: boolean) {
    return this.call({ type: "delete", path, recursive }, PathResult);
  }

  rename(from: string, to: string) {
    return this.call({ type: "rename", from, to }, TransferResult);
  }

  move(from: string, to: string) {
    return this.call({ type: "move", from, to, overwrite: false }, TransferResult);
  }

  watch() {
    return this.call({ type: "watch" }, WatchReply);
  }

  unwatch() {
    return this.call({ type: "unwatch" }, UnwatchReply);
  }

  /** Changes pushed for this workspace (after `watch`). */
  onChange(listener: (change: FileChanged) => void): () => void {
    return this.mux.onChannelFrame("files", (frame) => {
      const change = FileChanged.safeParse(frame);
      if (change.success && change.data.workspace_path === this.workspacePath) listener(change.data);
    });
  }

  private call<T>(body: { type: string } & Record<string, unknown>, schema: z.ZodType<T>): Promise<T> {
    return this.mux.request("files", { ...body, workspace_path: this.workspacePath }, schema);
  }
}
