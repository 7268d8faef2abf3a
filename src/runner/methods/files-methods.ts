import type { FilesMethod } from "../../protocol/index.ts";
import type { FileService } from "../files/file-service.ts";
import type { StreamRegistry } from "../files/stream-registry.ts";
import type { UploadStreams } from "../files/upload-streams.ts";
import type { MethodTable, PushFn } from "./types.ts";

type TransferMethod =
  | "files.open_read"
  | "files.open_zip"
  | "files.stream_read"
  | "files.open_write"
  | "files.stream_sync"
  | "files.finish_write"
  | "files.stream_close";

/** The `files.*` methods: metadata and small files directly, bytes as data-frame transfers. */
export function filesMethods(
  files: FileService,
  streams: StreamRegistry,
  uploads: UploadStreams,
  push: PushFn,
): MethodTable<FilesMethod | TransferMethod> {
  return {
    "files.tree": (p) => files.tree(p),
    "files.list": (p) => files.list(p),
    "files.stat": (p) => files.stat(p),
    "files.read": (p) => files.read(p),
    "files.write": (p) => files.write(p),
    "files.delete": (p) => files.delete(p),
    "files.create_directory": (p) => files.createDirectory(p),
    "files.rename": (p) => files.rename(p),
    "files.copy": (p) => files.copy(p),
    "files.move": (p) => files.move(p),
    "files.watch": ({ workspace_path }) => files.watch(workspace_path, (change) => push(change)),
    "files.unwatch": ({ watch_id }) => files.unwatch(watch_id),
    "files.open_read": async ({ workspace_path, path, start, end, suffix_length }) => {
      const range =
        suffix_length !== undefined
          ? { suffix: suffix_length }
          : start === undefined && end === undefined
            ? undefined
            : { start: start ?? 0, ...(end === undefined ? {} : { end }) };
      const file = await files.readStream(workspace_path, path, range);
      return {
        stream_id: streams.open(file.stream),
        size: file.size,
        start: file.start,
        length: file.length,
        mime_type: file.mimeType,
        modified_at: file.modifiedAt,
        etag: file.etag,
      };
    },
    "files.open_zip": async ({ workspace_path, path }) => {
      const zip = await files.zipStream(workspace_path, path);
      return { stream_id: streams.open(zip.stream), file_name: zip.fileName, entries: zip.entries };
    },
    "files.stream_read": ({ stream_id, max_bytes }) => streams.read(stream_id, max_bytes),
    "files.open_write": async ({ workspace_path, path, create_parents, overwrite, if_match }) => ({
      stream_id: await uploads.open({
        workspacePath: workspace_path,
        path,
        createParents: create_parents,
        overwrite,
        maxBytes: files.limits.maxFileBytes,
        ...(if_match === undefined ? {} : { ifMatch: if_match }),
      }),
    }),
    "files.stream_sync": ({ stream_id }) => uploads.sync(stream_id),
    "files.finish_write": ({ stream_id }) => uploads.finish(stream_id),
    "files.stream_close": ({ stream_id }) => {
      if (!uploads.close(stream_id)) streams.close(stream_id);
      return {};
    },
  };
}
