import { join } from "node:path";
import type { Context, Hono } from "hono";
import {
  FilesOpenReadResult,
  FilesOpenZipResult,
  FilesStreamNextResult,
  ProtocolError,
  WorkspaceName,
} from "../../protocol/index.ts";
import type { AppEnv } from "../app.ts";
import { ApiError, bodyCutOff, errorResponse } from "../http-errors.ts";
import type { MuxUser } from "../mux/mux-connection.ts";
import type { RunnerClient } from "../runner/runner-client.ts";
import { runnerErrorToApi } from "../runner/runner-errors.ts";
import { contentDisposition, fileResponseHeaders, INERT_HEADERS } from "./file-response-headers.ts";
import { UploadSlots } from "./upload-slots.ts";

const TRANSFER_TIMEOUT_MS = 30_000;
/** Upload chunk size: one runner line per chunk (PROTOCOL.md §4.2). */
const UPLOAD_CHUNK_BYTES = 1024 * 1024;
/** Uploads one user may have in flight: one user cannot use up the runner's for everyone. */
export const UPLOADS_PER_USER = 8;

export interface FileRoutesOptions {
  runnerFor: (user: MuxUser) => RunnerClient;
  workspaceRootFor: (user: MuxUser) => string;
  maxUploadBytes: number;
}

/** `bytes=a-b`, `bytes=a-` or `bytes=-n` (one range); anything else is ignored, as HTTP allows. */
function parseRange(header: string | undefined): { start?: number; end?: number; suffix?: number } | null {
  const match = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!match || (match[1] === "" && match[2] === "")) return null;
  if (match[1] === "") return { suffix: Number(match[2]) };
  return { start: Number(match[1]), ...(match[2] === "" ? {} : { end: Number(match[2]) }) };
}

/**
 * One percent-decoded path segment; malformed encoding (`%`, `%ff%fe`, overlong `%c0%af`) is
 * the client's error, and so is `%00`: no file name holds a NUL byte.
 */
function decodeSegment(segment: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    throw new ApiError("BAD_REQUEST", `malformed percent-encoding in the path: '${segment.slice(0, 100)}'`);
  }
  if (decoded.includes("\0")) {
    throw new ApiError("BAD_REQUEST", `the path must not contain a NUL byte: '${segment.slice(0, 100)}'`);
  }
  return decoded;
}

/**
 * Workspace file bytes over REST (PROTOCOL.md §4.2): downloads with Range support and folder
 * zips pulled from the runner chunk by chunk, uploads pushed to it chunk by chunk. Neither the
 * server nor the runner holds a whole file.
 */
export function registerFileRoutes(app: Hono<AppEnv>, options: FileRoutesOptions): void {
  const uploadSlots = new UploadSlots(UPLOADS_PER_USER);
  const prefix = /^\/api\/workspaces\/([^/]+)\/files\/?/;
  const target = (c: Context<AppEnv>) => {
    const match = prefix.exec(c.req.path);
    const name = WorkspaceName.safeParse(decodeSegment(match?.[1] ?? ""));
    if (!name.success) throw new ApiError("BAD_REQUEST", "invalid workspace name");
    const rest = c.req.path.slice(match?.[0].length ?? 0);
    const path = rest === "" ? "." : rest.split("/").map(decodeSegment).join("/");
    return {
      runner: options.runnerFor(c.var.user),
      workspacePath: join(options.workspaceRootFor(c.var.user), name.data),
      path,
    };
  };
  const call = async <T>(work: Promise<T>): Promise<T> => {
    try {
      return await work;
    } catch (error) {
      throw runnerErrorToApi(error);
    }
  };

  app.get("/api/workspaces/:name/files/*", async (c) => {
    const { runner, workspacePath, path } = target(c);
    if (c.req.query("zip") === "1") {
      const zip = FilesOpenZipResult.parse(
        await call(
          runner.request("files.open_zip", { workspace_path: workspacePath, path }, TRANSFER_TIMEOUT_MS),
        ),
      );
      return new Response(pullStream(runner, zip.stream_id), {
        headers: {
          ...INERT_HEADERS,
          "content-type": "application/zip",
          "content-disposition": contentDisposition("attachment", zip.file_name),
        },
      });
    }
    const range = parseRange(c.req.header("range"));
    let params: { workspace_path: string; path: string; start?: number; end?: number } = {
      workspace_path: workspacePath,
      path,
    };
    if (range?.suffix !== undefined) {
      const stat = (await call(
        runner.request("files.stat", { workspace_path: workspacePath, path }, TRANSFER_TIMEOUT_MS),
      )) as { stat: { size: number } };
      params = { ...params, start: Math.max(0, stat.stat.size - range.suffix) };
    } else if (range) {
      params = { ...params, ...range };
    }
    let opened: ReturnType<typeof FilesOpenReadResult.parse>;
    try {
      opened = FilesOpenReadResult.parse(
        await runner.request("files.open_read", params, TRANSFER_TIMEOUT_MS),
      );
    } catch (error) {
      if (range && error instanceof ProtocolError && error.code === "invalid_request") {
        const size = Number(error.details?.size ?? 0);
        return errorResponse(
          "RANGE_NOT_SATISFIABLE",
          error.message,
          { size },
          {
            "content-range": `bytes */${size}`,
          },
        );
      }
      throw runnerErrorToApi(error);
    }
    const headers: Record<string, string> = {
      ...fileResponseHeaders(opened.mime_type, path.split("/").at(-1) ?? path, {
        download: c.req.query("download") === "1",
        inline: c.req.query("inline") === "1",
      }),
      "content-length": String(opened.length),
      "accept-ranges": "bytes",
      "last-modified": new Date(opened.modified_at).toUTCString(),
    };
    const partial = range !== null;
    if (partial)
      headers["content-range"] = `bytes ${opened.start}-${opened.start + opened.length - 1}/${opened.size}`;
    return new Response(pullStream(runner, opened.stream_id), { status: partial ? 206 : 200, headers });
  });

  app.put("/api/workspaces/:name/files/*", async (c) => {
    const { runner, workspacePath, path } = target(c);
    const declared = Number(c.req.header("content-length") ?? "0");
    if (declared > options.maxUploadBytes) {
      throw new ApiError("PAYLOAD_TOO_LARGE", `uploads are limited to ${options.maxUploadBytes} bytes`);
    }
    const overwrite = c.req.query("overwrite") !== "0";
    const createParents = c.req.query("create_parents") === "1";
    const existed = await runner
      .request("files.stat", { workspace_path: workspacePath, path }, TRANSFER_TIMEOUT_MS)
      .then((r) => (r as { stat: { exists: boolean } }).stat.exists)
      .catch(() => false);
    if (existed && !overwrite) throw new ApiError("CONFLICT", `${path} already exists`);
    const release = uploadSlots.take(c.var.user.id);
    const uploadId = crypto.randomUUID();
    try {
      const size = await streamUpload(c.req.raw.body, options.maxUploadBytes, (chunk, offset, final) =>
        call(
          runner.request(
            "files.write",
            {
              workspace_path: workspacePath,
              path,
              content: Buffer.from(chunk).toString("base64"),
              create_parents: createParents,
              overwrite,
              upload_id: uploadId,
              offset,
              final,
            },
            TRANSFER_TIMEOUT_MS,
          ),
        ),
      );
      return c.json({ path, size }, existed ? 200 : 201);
    } catch (error) {
      // The client went away, or a chunk failed: the partial file goes now, not at the idle timeout.
      void runner
        .request(
          "files.upload_abort",
          { workspace_path: workspacePath, upload_id: uploadId },
          TRANSFER_TIMEOUT_MS,
        )
        .catch(() => {});
      throw error;
    } finally {
      release();
    }
  });
}

/**
 * Sends a request body to `send` in UPLOAD_CHUNK_BYTES pieces (the last one marked final) and
 * returns its size; over `maxBytes` it stops with a 413.
 */
async function streamUpload(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
  send: (chunk: Uint8Array, offset: number, final: boolean) => Promise<unknown>,
): Promise<number> {
  let offset = 0;
  let pending: Uint8Array = new Uint8Array(0);
  try {
    // An empty upload has no body stream at all (not one that ends): it is one empty, final chunk.
    for await (const piece of body ?? []) {
      if (offset + pending.length + piece.length > maxBytes) {
        throw new ApiError("PAYLOAD_TOO_LARGE", `uploads are limited to ${maxBytes} bytes`);
      }
      pending = pending.length === 0 ? piece : Buffer.concat([pending, piece]);
      while (pending.length >= UPLOAD_CHUNK_BYTES) {
        await send(pending.subarray(0, UPLOAD_CHUNK_BYTES), offset, false);
        offset += UPLOAD_CHUNK_BYTES;
        pending = pending.subarray(UPLOAD_CHUNK_BYTES);
      }
    }
  } catch (error) {
    // `send` fails with ApiErrors only: anything else is the body stream, a client gone mid-upload.
    throw error instanceof ApiError ? error : bodyCutOff();
  }
  await send(pending, offset, true);
  return offset + pending.length;
}

/** A response body that pulls a runner transfer one chunk at a time (backpressure from the client). */
function pullStream(runner: RunnerClient, streamId: string): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = FilesStreamNextResult.parse(
          await runner.request("files.stream_next", { stream_id: streamId }, TRANSFER_TIMEOUT_MS),
        );
        if (next.data.length > 0) controller.enqueue(Buffer.from(next.data, "base64"));
        if (next.eof) controller.close();
      } catch (error) {
        controller.error(error);
      }
    },
    cancel() {
      runner.request("files.stream_close", { stream_id: streamId }, TRANSFER_TIMEOUT_MS).catch(() => {});
    },
  });
}
