import { join } from "node:path";
import type { Context, Hono } from "hono";
import {
  FilesOpenReadResult,
  FilesOpenWriteResult,
  FilesOpenZipResult,
  ProtocolError,
  StatResult,
  WorkspaceName,
} from "../../protocol/index.ts";
import type { AppEnv } from "../app.ts";
import { ApiError, bodyCutOff, errorResponse } from "../http-errors.ts";
import type { MuxUser } from "../mux/mux-connection.ts";
import type { RunnerClient } from "../runner/runner-client.ts";
import { runnerErrorToApi } from "../runner/runner-errors.ts";
import { readTransfer, writeTransfer } from "../runner/runner-transfers.ts";
import { noneMatch, parseRange, type RangeRequest, rangeStillValid } from "./byte-range.ts";
import {
  contentDisposition,
  downloadHeaders,
  INERT_HEADERS,
  notModifiedHeaders,
} from "./file-response-headers.ts";
import { UploadSlots } from "./upload-slots.ts";

const TRANSFER_TIMEOUT_MS = 30_000;
/** Uploads one user may have in flight: one user cannot use up the runner's for everyone. */
export const UPLOADS_PER_USER = 8;
/**
 * Downloads up to this size are read whole before answering: Bun.serve drops the Content-Length
 * of a streamed body (oven-sh/bun#10507), a sized one keeps it.
 */
const BUFFERED_DOWNLOAD_BYTES = 1024 * 1024;

export interface FileRoutesOptions {
  runnerFor: (user: MuxUser) => RunnerClient;
  workspaceRootFor: (user: MuxUser) => string;
  maxUploadBytes: number;
}

type OpenRead = ReturnType<typeof FilesOpenReadResult.parse>;

function rangeParams(range: RangeRequest): { start?: number; end?: number; suffix_length?: number } {
  if (range.kind === "suffix") return { suffix_length: range.length };
  if (range.kind === "from")
    return { start: range.start, ...(range.end === undefined ? {} : { end: range.end }) };
  return {};
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
 * Workspace file bytes over REST (PROTOCOL.md §4.2): downloads with ETag, conditional requests
 * and single Range support, folder zips and uploads, all streamed through the runner as binary
 * data frames (runner-transfers.ts). Neither the server nor the runner holds a whole file.
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
      return new Response(readTransfer(runner, zip.stream_id, TRANSFER_TIMEOUT_MS), {
        headers: {
          ...INERT_HEADERS,
          "content-type": "application/zip",
          "content-disposition": contentDisposition("attachment", zip.file_name),
        },
      });
    }
    let range = parseRange(c.req.header("range"));
    const open = async (wanted: RangeRequest): Promise<OpenRead | Response> => {
      const params = { workspace_path: workspacePath, path, ...rangeParams(wanted) };
      try {
        return FilesOpenReadResult.parse(
          await runner.request("files.open_read", params, TRANSFER_TIMEOUT_MS),
        );
      } catch (error) {
        if (wanted.kind !== "whole" && error instanceof ProtocolError && error.code === "invalid_request") {
          // The runner's error carries no details over the socket: the size comes from a stat.
          const stat = await call(
            runner.request("files.stat", { workspace_path: workspacePath, path }, TRANSFER_TIMEOUT_MS),
          );
          const size = StatResult.parse(stat).stat.size;
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
    };
    const close = (opened: OpenRead) =>
      runner
        .request("files.stream_close", { stream_id: opened.stream_id }, TRANSFER_TIMEOUT_MS)
        .catch(() => {});
    let opened = await open(range);
    if (opened instanceof Response) return opened;
    const lastModified = new Date(opened.modified_at).toUTCString();
    const fileName = path.split("/").at(-1) ?? path;
    const asked = { download: c.req.query("download") === "1", inline: c.req.query("inline") === "1" };
    if (noneMatch(c.req.header("if-none-match"), opened.etag)) {
      void close(opened);
      // A browser copies a 304's headers onto what it cached: the inert headers must come again,
      // or the app's API defaults would replace the file's CSP sandbox in the cached copy.
      return new Response(null, {
        status: 304,
        headers: notModifiedHeaders(downloadHeaders(opened, fileName, { ...asked, partial: false })),
      });
    }
    if (range.kind !== "whole" && !rangeStillValid(c.req.header("if-range"), opened.etag, lastModified)) {
      // The client holds another version: it gets this one whole.
      void close(opened);
      range = { kind: "whole" };
      opened = await open(range);
      if (opened instanceof Response) return opened;
    }
    const headers = downloadHeaders(opened, fileName, { ...asked, partial: range.kind !== "whole" });
    const status = range.kind === "whole" ? 200 : 206;
    const body = readTransfer(runner, opened.stream_id, TRANSFER_TIMEOUT_MS);
    if (opened.length <= BUFFERED_DOWNLOAD_BYTES) {
      return new Response(new Uint8Array(await new Response(body).arrayBuffer()), { status, headers });
    }
    return new Response(body, { status, headers });
  });

  app.put("/api/workspaces/:name/files/*", async (c) => {
    const { runner, workspacePath, path } = target(c);
    const condition = writeCondition(c.req.header("if-match"), c.req.header("if-none-match"));
    const declared = Number(c.req.header("content-length") ?? "0");
    if (declared > options.maxUploadBytes) {
      throw new ApiError("PAYLOAD_TOO_LARGE", `uploads are limited to ${options.maxUploadBytes} bytes`);
    }
    const release = uploadSlots.take(c.var.user.id);
    let streamId: string | undefined;
    try {
      const opened = FilesOpenWriteResult.parse(
        await call(
          runner.request(
            "files.open_write",
            {
              workspace_path: workspacePath,
              path,
              create_parents: c.req.query("create_parents") === "1",
              overwrite: c.req.query("overwrite") !== "0" && !condition.mustBeNew,
              ...(condition.ifMatch === undefined ? {} : { if_match: condition.ifMatch }),
            },
            TRANSFER_TIMEOUT_MS,
          ),
        ).catch((error: unknown) => {
          throw condition.mustBeNew ? newFileExists(error) : error;
        }),
      );
      streamId = opened.stream_id;
      const body = cappedBody(c.req.raw.body, options.maxUploadBytes);
      const written = await writeTransfer(runner, streamId, body, TRANSFER_TIMEOUT_MS).catch(
        (error: unknown) => {
          // The body's own errors (413, cut off) are the client's; the rest is the runner's.
          const mapped = error instanceof ApiError ? error : runnerErrorToApi(error);
          throw condition.mustBeNew ? newFileExists(mapped) : mapped;
        },
      );
      streamId = undefined;
      c.header("etag", written.etag);
      return c.json({ path, size: written.size, etag: written.etag }, written.created ? 201 : 200);
    } finally {
      // The client went away, or a chunk failed: the partial file goes now, not at the idle timeout.
      if (streamId !== undefined) {
        void runner
          .request("files.stream_close", { stream_id: streamId }, TRANSFER_TIMEOUT_MS)
          .catch(() => {});
      }
      release();
    }
  });
}

/**
 * The preconditions of a PUT (RFC 9110 §13.1): `If-Match: <one entity tag>` writes only over that
 * version (an editor saving what it opened); `If-None-Match: *` only creates. Neither: unconditional.
 */
function writeCondition(
  ifMatch: string | undefined,
  ifNoneMatch: string | undefined,
): { ifMatch?: string; mustBeNew: boolean } {
  const tag = ifMatch?.trim();
  if (tag !== undefined && !/^(W\/)?"[^",]*"$/.test(tag)) {
    throw new ApiError("BAD_REQUEST", "If-Match takes exactly one entity tag, such as a download's ETag");
  }
  const none = ifNoneMatch?.trim();
  if (none !== undefined && none !== "*") {
    throw new ApiError("BAD_REQUEST", "a PUT takes only 'If-None-Match: *' (create, never replace)");
  }
  if (tag !== undefined && none !== undefined) {
    throw new ApiError("BAD_REQUEST", "If-Match and If-None-Match exclude each other");
  }
  return { ...(tag === undefined ? {} : { ifMatch: tag }), mustBeNew: none === "*" };
}

/** Under `If-None-Match: *` an existing file is a failed precondition (412), not a conflict. */
function newFileExists(error: unknown): unknown {
  const api = error instanceof ApiError ? error : runnerErrorToApi(error);
  if (api.code !== "CONFLICT") return api;
  return new ApiError("PRECONDITION_FAILED", api.message, api.details);
}

/** The request body, cut off with a 413 past `maxBytes`; a body that breaks off is a 400. */
async function* cappedBody(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
): AsyncGenerator<Uint8Array> {
  let size = 0;
  // An empty upload has no body stream at all (not one that ends).
  if (!body) return;
  const reader = body.getReader();
  try {
    for (;;) {
      let next: Awaited<ReturnType<typeof reader.read>>;
      try {
        next = await reader.read();
      } catch {
        throw bodyCutOff();
      }
      if (next.done) return;
      size += next.value.length;
      if (size > maxBytes)
        throw new ApiError("PAYLOAD_TOO_LARGE", `uploads are limited to ${maxBytes} bytes`);
      yield next.value;
    }
  } finally {
    reader.releaseLock();
  }
}
