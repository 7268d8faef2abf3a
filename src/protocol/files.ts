import { z } from "zod";
import { CorrelationId } from "./common.ts";
import { MAX_DATA_FRAME_PAYLOAD_BYTES, StreamId } from "./data-frames.ts";

/** Limits of the files channel that are part of the protocol (PROTOCOL.md §2.2). */
export const MAX_TREE_DEPTH = 8;
export const MAX_TREE_LIMIT = 5000;
export const DEFAULT_READ_LENGTH = 1024 * 1024;
export const MAX_READ_LENGTH = 4 * 1024 * 1024;

/** Absolute path of a workspace; the runner checks it lies in the user's workspace root. */
const WorkspacePath = z.string().min(1).max(4096);
/** A path relative to the workspace; the runner's path guard decides what it may name. */
const RelativePath = z.string().min(1).max(4096);
const Offset = z.number().int().nonnegative();

export const FilesTreeParams = z.strictObject({
  workspace_path: WorkspacePath,
  path: RelativePath.default("."),
  depth: z.number().int().min(1).max(MAX_TREE_DEPTH).default(2),
  include_hidden: z.boolean().default(false),
  offset: Offset.default(0),
  limit: z.number().int().min(1).max(MAX_TREE_LIMIT).default(1000),
});
export const FilesListParams = z.strictObject({
  workspace_path: WorkspacePath,
  path: RelativePath.default("."),
  include_hidden: z.boolean().default(false),
});
export const FilesStatParams = z.strictObject({ workspace_path: WorkspacePath, path: RelativePath });
export const FilesReadParams = z.strictObject({
  workspace_path: WorkspacePath,
  path: RelativePath,
  offset: Offset.default(0),
  length: z.number().int().min(1).max(MAX_READ_LENGTH).default(DEFAULT_READ_LENGTH),
});
const UploadId = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, "upload_id is 1-128 letters, digits, '_' or '-'");
export const FilesWriteParams = z
  .strictObject({
    workspace_path: WorkspacePath,
    path: RelativePath,
    content: z.base64(),
    create_parents: z.boolean().default(false),
    overwrite: z.boolean().default(true),
    upload_id: UploadId.optional(),
    offset: Offset.optional(),
    final: z.boolean().optional(),
  })
  .refine(
    (p) => p.upload_id !== undefined || (p.offset === undefined && p.final === undefined),
    "offset and final belong to chunked uploads and need upload_id",
  );
export const FilesDeleteParams = z.strictObject({
  workspace_path: WorkspacePath,
  path: RelativePath,
  recursive: z.boolean().default(false),
});
export const FilesCreateDirectoryParams = z.strictObject({
  workspace_path: WorkspacePath,
  path: RelativePath,
  create_parents: z.boolean().default(true),
});
export const FilesRenameParams = z.strictObject({
  workspace_path: WorkspacePath,
  from: RelativePath,
  to: RelativePath,
});
export const FilesTransferParams = z.strictObject({
  workspace_path: WorkspacePath,
  from: RelativePath,
  to: RelativePath,
  overwrite: z.boolean().default(false),
});
export const FilesWatchParams = z.strictObject({ workspace_path: WorkspacePath });
export const FilesUnwatchParams = z.strictObject({ watch_id: z.string().min(1).max(128) });

export type FilesTreeParams = z.infer<typeof FilesTreeParams>;
export type FilesListParams = z.infer<typeof FilesListParams>;
export type FilesStatParams = z.infer<typeof FilesStatParams>;
export type FilesReadParams = z.infer<typeof FilesReadParams>;
export type FilesWriteParams = z.infer<typeof FilesWriteParams>;
export type FilesDeleteParams = z.infer<typeof FilesDeleteParams>;
export type FilesCreateDirectoryParams = z.infer<typeof FilesCreateDirectoryParams>;
export type FilesRenameParams = z.infer<typeof FilesRenameParams>;
export type FilesTransferParams = z.infer<typeof FilesTransferParams>;

export interface TreeNode {
  name: string;
  path: string;
  type: "file" | "directory" | "symlink";
  size?: number;
  modified_at?: number;
  children?: TreeNode[];
}
export const TreeNode: z.ZodType<TreeNode> = z.lazy(() =>
  z.object({
    name: z.string(),
    path: z.string(),
    type: z.enum(["file", "directory", "symlink"]),
    size: z.number().optional(),
    modified_at: z.number().optional(),
    children: z.array(TreeNode).optional(),
  }),
);

export const TreeResult = z.object({
  path: z.string(),
  entries: z.array(TreeNode),
  truncated: z.boolean(),
  stop_reason: z.enum(["timeout", "max_nodes"]).optional(),
  next_offset: z.number().optional(),
  total_entries: z.number().optional(),
});
export type TreeResult = z.infer<typeof TreeResult>;

export const ListEntry = z.object({
  name: z.string(),
  is_dir: z.boolean(),
  is_symlink: z.boolean(),
  size: z.number(),
  modified_at: z.number(),
});
export type ListEntry = z.infer<typeof ListEntry>;
export const ListResult = z.object({ path: z.string(), entries: z.array(ListEntry) });
export type ListResult = z.infer<typeof ListResult>;

export const FileStat = z.object({
  exists: z.boolean(),
  is_file: z.boolean(),
  is_dir: z.boolean(),
  is_symlink: z.boolean(),
  size: z.number(),
  modified_at: z.number(),
  created_at: z.number().optional(),
  mode: z.number(),
});
export type FileStat = z.infer<typeof FileStat>;
export const StatResult = z.object({ path: z.string(), stat: FileStat });
export type StatResult = z.infer<typeof StatResult>;

export const ReadResult = z.object({
  path: z.string(),
  content: z.string(),
  offset: z.number(),
  size: z.number(),
  eof: z.boolean(),
});
export type ReadResult = z.infer<typeof ReadResult>;

export const WriteResult = z.object({ path: z.string(), size: z.number(), success: z.boolean() });
export type WriteResult = z.infer<typeof WriteResult>;
export const PathResult = z.object({ path: z.string(), success: z.boolean() });
export type PathResult = z.infer<typeof PathResult>;
export const TransferResult = z.object({ from: z.string(), to: z.string(), success: z.boolean() });
export type TransferResult = z.infer<typeof TransferResult>;
export const WatchResult = z.object({ watch_id: z.string() });
export type WatchResult = z.infer<typeof WatchResult>;

export const FileChangeType = z.enum([
  "file_created",
  "file_modified",
  "file_deleted",
  "dir_created",
  "dir_deleted",
]);
export type FileChangeType = z.infer<typeof FileChangeType>;

/** Runner push frame for a watched workspace (PROTOCOL.md §3.3). */
export const FileChangedPush = z.object({
  type: z.literal("file_changed"),
  watch_id: z.string(),
  workspace_path: z.string(),
  event_type: FileChangeType,
  path: z.string(),
  entry_type: z.enum(["file", "directory"]),
});
export type FileChangedPush = z.infer<typeof FileChangedPush>;

/** Params and results of the `files.*` runner methods (PROTOCOL.md §3.4). */
export const FilesMethods = {
  "files.tree": { params: FilesTreeParams, result: TreeResult },
  "files.list": { params: FilesListParams, result: ListResult },
  "files.stat": { params: FilesStatParams, result: StatResult },
  "files.read": { params: FilesReadParams, result: ReadResult },
  "files.write": { params: FilesWriteParams, result: WriteResult },
  "files.delete": { params: FilesDeleteParams, result: PathResult },
  "files.create_directory": { params: FilesCreateDirectoryParams, result: PathResult },
  "files.rename": { params: FilesRenameParams, result: TransferResult },
  "files.copy": { params: FilesTransferParams, result: TransferResult },
  "files.move": { params: FilesTransferParams, result: TransferResult },
  "files.watch": { params: FilesWatchParams, result: WatchResult },
  "files.unwatch": { params: FilesUnwatchParams, result: z.strictObject({}) },
} as const;
export type FilesMethod = keyof typeof FilesMethods;

/** Mux reply `type` for each files request `type` (PROTOCOL.md §2.2). */
export const FILES_REPLY_TYPE = {
  tree: "tree_result",
  list: "list_result",
  stat: "stat_result",
  read: "read_result",
  write: "write_result",
  delete: "delete_result",
  create_directory: "create_directory_result",
  rename: "rename_result",
  copy: "copy_result",
  move: "move_result",
  watch: "watch_result",
  unwatch: "unwatch_result",
} as const;

const muxHead = { channel: z.literal("files"), id: CorrelationId.optional() };

/** Client→server files frames. The mux `unwatch` names the workspace; the server maps it to its watch id. */
export const FilesMuxRequest = z.discriminatedUnion("type", [
  FilesTreeParams.extend({ ...muxHead, type: z.literal("tree") }),
  FilesListParams.extend({ ...muxHead, type: z.literal("list") }),
  FilesStatParams.extend({ ...muxHead, type: z.literal("stat") }),
  FilesReadParams.extend({ ...muxHead, type: z.literal("read") }),
  FilesWriteParams.safeExtend({ ...muxHead, type: z.literal("write") }),
  FilesDeleteParams.extend({ ...muxHead, type: z.literal("delete") }),
  FilesCreateDirectoryParams.extend({ ...muxHead, type: z.literal("create_directory") }),
  FilesRenameParams.extend({ ...muxHead, type: z.literal("rename") }),
  FilesTransferParams.extend({ ...muxHead, type: z.literal("copy") }),
  FilesTransferParams.extend({ ...muxHead, type: z.literal("move") }),
  FilesWatchParams.extend({ ...muxHead, type: z.literal("watch") }),
  FilesWatchParams.extend({ ...muxHead, type: z.literal("unwatch") }),
]);
export type FilesMuxRequest = z.infer<typeof FilesMuxRequest>;

/** Server→client push for a watched workspace (PROTOCOL.md §2.2). */
export const FileChangedFrame = FileChangedPush.omit({ type: true, watch_id: true }).extend({
  channel: z.literal("files"),
  type: z.literal("file_changed"),
});
export type FileChangedFrame = z.infer<typeof FileChangedFrame>;

/**
 * Byte transfers (REST downloads, folder zips, uploads). The bytes travel as binary data frames
 * (data-frames.ts), never inside JSON; each side asks for, or acknowledges, a bounded number of
 * bytes at a time, so neither process buffers more than a few MiB of one transfer.
 */
export const FilesOpenReadParams = z
  .strictObject({
    workspace_path: WorkspacePath,
    path: RelativePath,
    start: z.number().int().nonnegative().optional(),
    /** Inclusive, as in an HTTP Range. */
    end: z.number().int().nonnegative().optional(),
    /** The last `suffix_length` bytes (an HTTP suffix range); not with start or end. */
    suffix_length: z.number().int().nonnegative().optional(),
  })
  .refine(
    (p) => p.suffix_length === undefined || (p.start === undefined && p.end === undefined),
    "suffix_length excludes start and end",
  );
export const FilesOpenReadResult = z.object({
  stream_id: z.string(),
  size: z.number(),
  start: z.number(),
  length: z.number(),
  mime_type: z.string(),
  modified_at: z.number(),
  /** Strong entity tag of this version of the file (inode, size, mtime), quoted as in HTTP. */
  etag: z.string(),
});
export const FilesOpenZipParams = z.strictObject({ workspace_path: WorkspacePath, path: RelativePath });
export const FilesOpenZipResult = z.object({
  stream_id: z.string(),
  file_name: z.string(),
  entries: z.number(),
});
export const FilesStreamParams = z.strictObject({ stream_id: StreamId });
/** Up to `max_bytes` of a read transfer, sent as data frames before this request's response. */
export const FilesStreamReadParams = z.strictObject({
  stream_id: StreamId,
  max_bytes: z
    .number()
    .int()
    .min(1)
    .max(4 * MAX_DATA_FRAME_PAYLOAD_BYTES),
});
export const FilesStreamReadResult = z.object({ bytes: z.number(), eof: z.boolean() });
export const FilesOpenWriteParams = z.strictObject({
  workspace_path: WorkspacePath,
  path: RelativePath,
  create_parents: z.boolean().default(false),
  overwrite: z.boolean().default(true),
  /** Commit only while the file is still this version (an ETag from a download): HTTP If-Match. */
  if_match: z.string().min(1).max(256).optional(),
});
export const FilesOpenWriteResult = z.object({ stream_id: z.string() });
/** Answered once every data frame sent before it is on disk: the upload's flow control. */
export const FilesStreamSyncResult = z.object({ written: z.number() });
export const FilesFinishWriteResult = z.object({
  path: z.string(),
  size: z.number(),
  created: z.boolean(),
  /** Entity tag of the version just written, as a download of it would send. */
  etag: z.string(),
});

export const FilesTransferMethods = {
  "files.open_read": { params: FilesOpenReadParams, result: FilesOpenReadResult },
  "files.open_zip": { params: FilesOpenZipParams, result: FilesOpenZipResult },
  "files.stream_read": { params: FilesStreamReadParams, result: FilesStreamReadResult },
  "files.open_write": { params: FilesOpenWriteParams, result: FilesOpenWriteResult },
  "files.stream_sync": { params: FilesStreamParams, result: FilesStreamSyncResult },
  "files.finish_write": { params: FilesStreamParams, result: FilesFinishWriteResult },
  "files.stream_close": { params: FilesStreamParams, result: z.strictObject({}) },
} as const;
