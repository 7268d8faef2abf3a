import { randomUUID } from "node:crypto";
import type {
  FileChangedPush,
  FilesCreateDirectoryParams,
  FilesDeleteParams,
  FilesListParams,
  FilesReadParams,
  FilesRenameParams,
  FilesStatParams,
  FilesTransferParams,
  FilesTreeParams,
  FilesWriteParams,
  ListResult,
  PathResult,
  ReadResult,
  StatResult,
  TransferResult,
  TreeResult,
  WatchResult,
  WriteResult,
} from "../../protocol/files.ts";
import { ProtocolError } from "../../protocol/index.ts";
import { ChunkedUploads } from "./chunked-uploads.ts";
import { readRange, writeWhole } from "./content-ops.ts";
import { readEntries } from "./dir-entries.ts";
import { copyEntry, createDirectory, deleteEntry, moveEntry, statEntry } from "./entry-ops.ts";
import { type ByteRange, type FileReadStream, openReadStream, writeFromStream } from "./file-stream.ts";
import { toProtocolError } from "./fs-errors.ts";
import { joinRel, type OpenDir, PathGuard, splitClientPath } from "./path-guard.ts";
import { buildTree } from "./tree.ts";
import { WorkspaceWatcher } from "./workspace-watcher.ts";
import { type FolderZip, zipFolder } from "./zip-folder.ts";

export interface FileServiceLimits {
  /** Bytes one `files.read` returns at most (longer requests are shortened; `eof` tells). */
  maxReadBytes: number;
  /** Decoded bytes of one `files.write` request. */
  maxWriteBytes: number;
  /** Size of a file written through `files.write`, whole or chunked. */
  maxFileBytes: number;
  /** Tree budget over all levels, and its time limit. */
  maxTreeNodes: number;
  treeTimeoutMs: number;
  /** Entries `files.list` returns before refusing with `too_large`. */
  maxListEntries: number;
  /** Chunked uploads in progress, and how long one may sit idle. */
  maxUploads: number;
  uploadIdleMs: number;
  /** Watch subscriptions at once, their debounce, the paths kept per window, the remembered entries. */
  maxWatches: number;
  watchDebounceMs: number;
  maxWatchPendingPaths: number;
  watchIndexLimit: number;
}

export const DEFAULT_FILE_LIMITS: FileServiceLimits = {
  maxReadBytes: 4 * 1024 * 1024,
  maxWriteBytes: 4 * 1024 * 1024,
  maxFileBytes: 100 * 1024 * 1024,
  maxTreeNodes: 20_000,
  treeTimeoutMs: 3_000,
  maxListEntries: 20_000,
  // The server bounds uploads per user; this bounds them for the whole runner.
  maxUploads: 128,
  // Chunks of a live upload arrive every MiB; one that went quiet is abandoned.
  uploadIdleMs: 2 * 60_000,
  maxWatches: 64,
  watchDebounceMs: 150,
  maxWatchPendingPaths: 1_000,
  watchIndexLimit: 20_000,
};

export interface FileServiceOptions {
  /** The user's workspace root; every workspace_path must lie inside it. */
  workspaceRoot: string;
  limits?: Partial<FileServiceLimits>;
}

export interface WriteStreamOptions {
  maxBytes: number;
  overwrite: boolean;
  createParents: boolean;
  /** Write only while the file is still the version with this entity tag (HTTP If-Match). */
  ifMatch?: string;
}

/** Receives the pushes of one watch; must not throw. */
export type FileChangedListener = (push: FileChangedPush) => void;

interface WatchedWorkspace {
  watcher: WorkspaceWatcher;
  ready: Promise<void>;
  subscribers: Map<string, { workspacePath: string; listener: FileChangedListener }>;
}

/**
 * The runner's workspace file service: the `files.*` methods (PROTOCOL.md §2.2, §3.4) and the
 * streaming helpers behind the REST file routes (§4.2). Every path goes through the path guard
 * (path-guard.ts); params are expected already validated by the FilesMethods schemas.
 */
export class FileService {
  readonly limits: FileServiceLimits;
  private readonly guard: PathGuard;
  private readonly uploads: ChunkedUploads;
  private readonly watched = new Map<string, WatchedWorkspace>();
  private readonly watchKeys = new Map<string, string>();

  constructor(options: FileServiceOptions) {
    this.limits = { ...DEFAULT_FILE_LIMITS, ...options.limits };
    this.guard = new PathGuard(options.workspaceRoot);
    this.uploads = new ChunkedUploads(this.guard, {
      maxFileBytes: this.limits.maxFileBytes,
      maxUploads: this.limits.maxUploads,
      idleMs: this.limits.uploadIdleMs,
    });
  }

  async tree(params: FilesTreeParams): Promise<TreeResult> {
    const parts = splitClientPath(params.path);
    return this.inWorkspace(params.workspace_path, parts, async (ws) => {
      await using dir = await ws.walk(parts);
      return await buildTree(
        dir,
        {
          depth: params.depth,
          includeHidden: params.include_hidden,
          offset: params.offset,
          limit: params.limit,
        },
        { maxNodes: this.limits.maxTreeNodes, timeoutMs: this.limits.treeTimeoutMs },
      );
    });
  }

  async list(params: FilesListParams): Promise<ListResult> {
    const parts = splitClientPath(params.path);
    return this.inWorkspace(params.workspace_path, parts, async (ws) => {
      await using dir = await ws.walk(parts);
      const entries = await readEntries(dir, {
        includeHidden: params.include_hidden,
        maxEntries: this.limits.maxListEntries,
      });
      return {
        path: dir.relPath,
        entries: entries.map((entry) => ({
          name: entry.name,
          is_dir: entry.kind === "directory",
          is_symlink: entry.kind === "symlink",
          size: entry.size,
          modified_at: entry.modifiedAt,
        })),
      };
    });
  }

  async stat(params: FilesStatParams): Promise<StatResult> {
    const parts = splitClientPath(params.path);
    return this.inWorkspace(params.workspace_path, parts, async (ws) => ({
      path: joinRel(parts),
      stat: await statEntry(ws, parts),
    }));
  }

  async read(params: FilesReadParams): Promise<ReadResult> {
    const parts = splitClientPath(params.path);
    const length = Math.min(params.length, this.limits.maxReadBytes);
    return this.inWorkspace(params.workspace_path, parts, (ws) =>
      readRange(ws, parts, params.offset, length),
    );
  }

  /** Whole-file writes are atomic; with `upload_id` the chunk goes to the upload (chunked-uploads.ts). */
  async write(params: FilesWriteParams): Promise<WriteResult> {
    const parts = splitClientPath(params.path);
    const bytes = Buffer.from(params.content, "base64");
    if (bytes.length > this.limits.maxWriteBytes) {
      throw new ProtocolError(
        "too_large",
        `one write carries at most ${this.limits.maxWriteBytes} bytes; send larger files in chunks with upload_id`,
      );
    }
    const target = { parts, createParents: params.create_parents, overwrite: params.overwrite };
    if (params.upload_id !== undefined) {
      return this.uploads.write({
        ...target,
        workspacePath: params.workspace_path,
        uploadId: params.upload_id,
        offset: params.offset,
        final: params.final,
        bytes,
      });
    }
    if (bytes.length > this.limits.maxFileBytes) {
      throw new ProtocolError("too_large", `files are limited to ${this.limits.maxFileBytes} bytes`);
    }
    return this.inWorkspace(params.workspace_path, parts, async (ws) => {
      await writeWhole(ws, target, bytes);
      return { path: joinRel(parts), size: bytes.length, success: true };
    });
  }

  async delete(params: FilesDeleteParams): Promise<PathResult> {
    const parts = splitClientPath(params.path);
    return this.inWorkspace(params.workspace_path, parts, async (ws) => {
      await deleteEntry(ws, parts, params.recursive);
      return { path: joinRel(parts), success: true };
    });
  }

  async createDirectory(params: FilesCreateDirectoryParams): Promise<PathResult> {
    const parts = splitClientPath(params.path);
    return this.inWorkspace(params.workspace_path, parts, async (ws) => {
      await createDirectory(ws, parts, params.create_parents);
      return { path: joinRel(parts), success: true };
    });
  }

  /** A rename never replaces an existing entry. */
  async rename(params: FilesRenameParams): Promise<TransferResult> {
    return this.transfer({ ...params, overwrite: false }, moveEntry);
  }

  async move(params: FilesTransferParams): Promise<TransferResult> {
    return this.transfer(params, moveEntry);
  }

  async copy(params: FilesTransferParams): Promise<TransferResult> {
    return this.transfer(params, copyEntry);
  }

  /**
   * Subscribes `listener` to changes in a workspace. One recursive watcher serves every
   * subscription of the same workspace; it stops with the last unwatch.
   */
  async watch(workspacePath: string, listener: FileChangedListener): Promise<WatchResult> {
    if (this.watchKeys.size >= this.limits.maxWatches) {
      throw new ProtocolError("busy", `at most ${this.limits.maxWatches} watches at once`);
    }
    const key = await this.guard.workspaceRealPath(workspacePath);
    let watched = this.watched.get(key);
    if (!watched) {
      const subscribers: WatchedWorkspace["subscribers"] = new Map();
      const watcher = new WorkspaceWatcher(
        this.guard,
        workspacePath,
        {
          debounceMs: this.limits.watchDebounceMs,
          maxPendingPaths: this.limits.maxWatchPendingPaths,
          indexLimit: this.limits.watchIndexLimit,
        },
        (change) => {
          for (const [watchId, subscriber] of subscribers) {
            subscriber.listener({
              type: "file_changed",
              watch_id: watchId,
              workspace_path: subscriber.workspacePath,
              ...change,
            });
          }
        },
      );
      const entry: WatchedWorkspace = { watcher, subscribers, ready: watcher.start() };
      watched = entry;
      this.watched.set(key, entry);
      entry.ready.catch(() => {
        watcher.close();
        if (this.watched.get(key) === entry) this.watched.delete(key);
      });
    }
    await watched.ready;
    const watchId = randomUUID();
    watched.subscribers.set(watchId, { workspacePath, listener });
    this.watchKeys.set(watchId, key);
    return { watch_id: watchId };
  }

  unwatch(watchId: string): Record<string, never> {
    const key = this.watchKeys.get(watchId);
    const watched = key === undefined ? undefined : this.watched.get(key);
    if (key === undefined || !watched) throw new ProtocolError("not_found", `no watch with id '${watchId}'`);
    this.watchKeys.delete(watchId);
    watched.subscribers.delete(watchId);
    if (watched.subscribers.size === 0) {
      watched.watcher.close();
      this.watched.delete(key);
    }
    return {};
  }

  /** A file (or an HTTP-style byte range of it) as a stream, for REST downloads. */
  async readStream(workspacePath: string, path: string, range?: ByteRange): Promise<FileReadStream> {
    const parts = splitClientPath(path);
    return this.inWorkspace(workspacePath, parts, (ws) => openReadStream(ws, parts, range));
  }

  /** A request body written atomically to a file, for REST uploads; memory stays bounded. */
  async writeStream(
    workspacePath: string,
    path: string,
    body: ReadableStream<Uint8Array>,
    options: WriteStreamOptions,
  ): Promise<{ path: string; size: number; created: boolean; etag: string }> {
    const parts = splitClientPath(path);
    return this.inWorkspace(workspacePath, parts, async (ws) => {
      const target = { parts, createParents: options.createParents, overwrite: options.overwrite };
      const written = await writeFromStream(ws, target, body, options.maxBytes, options.ifMatch);
      return { path: joinRel(parts), ...written };
    });
  }

  /** A streamed ZIP of a folder, for REST downloads (zip-folder.ts). */
  async zipStream(workspacePath: string, dirPath: string): Promise<FolderZip> {
    const parts = splitClientPath(dirPath);
    try {
      return await zipFolder(this.guard, workspacePath, parts);
    } catch (error) {
      throw toProtocolError(error, joinRel(parts));
    }
  }

  /** Stops every watcher and drops unfinished uploads with their temp files. */
  async close(): Promise<void> {
    for (const watched of this.watched.values()) watched.watcher.close();
    this.watched.clear();
    this.watchKeys.clear();
    await this.uploads.discardAll();
  }

  private async transfer(
    params: FilesTransferParams,
    operation: (ws: OpenDir, from: string[], to: string[], overwrite: boolean) => Promise<void>,
  ): Promise<TransferResult> {
    const from = splitClientPath(params.from);
    const to = splitClientPath(params.to);
    return this.inWorkspace(params.workspace_path, to, async (ws) => {
      await operation(ws, from, to, params.overwrite);
      return { from: joinRel(from), to: joinRel(to), success: true };
    });
  }

  private async inWorkspace<T>(
    workspacePath: string,
    parts: string[],
    task: (ws: OpenDir) => Promise<T>,
  ): Promise<T> {
    try {
      await using ws = await this.guard.openWorkspace(workspacePath);
      return await task(ws);
    } catch (error) {
      throw toProtocolError(error, joinRel(parts));
    }
  }
}
