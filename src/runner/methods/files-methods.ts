import type { FilesMethod } from "../../protocol/index.ts";
import type { FileService } from "../files/file-service.ts";
import type { StreamRegistry } from "../files/stream-registry.ts";
import type { MethodTable, PushFn } from "./types.ts";

type TransferMethod = "files.open_read" | "files.open_zip" | "files.stream_next" | "files.stream_close";

/** The `files.*` methods: metadata and small files directly, bytes as pulled streams. */
export function filesMethods(
  files: FileService,
  streams: StreamRegistry,
  push: PushFn,
): MethodTable<FilesMethod | TransferMethod> {
  return {
    "files.tree": (p) => files.tree(p),
    "files.list": (p) => files.list(p),
    "files.stat": (p) => files.stat(p),
    "files.read": (p) => files.read(p),
    "files.write": (p) => files.write(p),
    "files.upload_abort": async ({ workspace_path, upload_id }) => ({
      discarded: await files.abortUpload(workspace_path, upload_id),
    }),
    "files.delete": (p) => files.delete(p),
    "files.create_directory": (p) => files.createDirectory(p),
    "files.rename": (p) => files.rename(p),
    "files.copy": (p) => files.copy(p),
    "files.move": (p) => files.move(p),
    "files.watch": ({ workspace_path }) => files.watch(workspace_path, (change) => push(change)),
    "files.unwatch": ({ watch_id }) => files.unwatch(watch_id),
    "files.open_read": async ({ workspace_path, path, start, end }) => {
      const range =
        start === undefined && end === undefined
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
      };
    },
    "files.open_zip": async ({ workspace_path, path }) => {
      const zip = await files.zipStream(workspace_path, path);
      return { stream_id: streams.open(zip.stream), file_name: zip.fileName, entries: zip.entries };
    },
    "files.stream_next": async ({ stream_id }) => {
      const { data, eof } = await streams.next(stream_id);
      return { data: Buffer.from(data.buffer, data.byteOffset, data.length).toString("base64"), eof };
    },
    "files.stream_close": ({ stream_id }) => {
      streams.close(stream_id);
      return {};
    },
  };
}
