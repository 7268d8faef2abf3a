import type { z } from "zod";
import { REST_ERROR_CODES, type RestError, type RestErrorCode } from "../protocol/rest.ts";

/** Builds the REST error body `{error, code, details?}` with the status that belongs to `code` (PROTOCOL.md §4.1). */
export function errorResponse(
  code: RestErrorCode,
  message: string,
  details?: Record<string, unknown>,
  headers?: Record<string, string>,
): Response {
  const body: RestError = { error: message, code, ...(details !== undefined && { details }) };
  return Response.json(body, { status: REST_ERROR_CODES[code], ...(headers !== undefined && { headers }) });
}

/** Thrown by route handlers; the app's error handler turns it into `errorResponse(...)`. */
export class ApiError extends Error {
  constructor(
    readonly code: RestErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = "ApiError";
  }

  toResponse(): Response {
    return errorResponse(this.code, this.message, this.details, this.headers);
  }
}

/** The largest JSON request body any route accepts. */
export const MAX_JSON_BODY_BYTES = 1024 * 1024;

function isJsonContentType(header: string | null): boolean {
  const mediaType = header?.split(";", 1)[0]?.trim().toLowerCase();
  return mediaType === "application/json";
}

/**
 * A request body that failed while it was read: the client closed the connection before its
 * end. Nobody reads the answer, but it is the client's doing, not a server error.
 */
export function bodyCutOff(): ApiError {
  return new ApiError("BAD_REQUEST", "the request body was cut off: the connection closed before its end");
}

/** Reads the body as UTF-8 text, refusing (413) anything over `limit` bytes without buffering it. */
async function readCappedText(req: Request, limit: number): Promise<string> {
  const tooLarge = () => new ApiError("PAYLOAD_TOO_LARGE", `request body exceeds ${limit} bytes`);
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > limit) throw tooLarge();
  if (req.body === null) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read().catch(() => {
      throw bodyCutOff();
    });
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new ApiError("BAD_REQUEST", "request body is not valid UTF-8");
  }
}

/** zod issues as a JSON-friendly list for `details.issues`. */
export function zodIssueDetails(error: z.ZodError): Record<string, unknown> {
  return {
    issues: error.issues.map((issue) => ({
      path: issue.path.map(String).join("."),
      code: issue.code,
      message: issue.message,
    })),
  };
}

/**
 * Parses and validates a JSON request body: 415 without `Content-Type: application/json`, 413 over 1 MiB,
 * 400 for malformed JSON, 400 with the zod issues in `details` when the schema rejects it.
 */
export async function parseJsonBody<T extends z.ZodType>(
  req: Request,
  schema: T,
  maxBytes = MAX_JSON_BODY_BYTES,
): Promise<z.output<T>> {
  if (!isJsonContentType(req.headers.get("content-type"))) {
    throw new ApiError(
      "UNSUPPORTED_MEDIA_TYPE",
      "request body must be JSON (Content-Type: application/json)",
    );
  }
  const text = await readCappedText(req, maxBytes);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ApiError("BAD_REQUEST", `malformed JSON body: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.map(String).join(".") || "(body)");
    throw new ApiError(
      "BAD_REQUEST",
      `invalid request body: ${fields.join(", ")}`,
      zodIssueDetails(parsed.error),
    );
  }
  return parsed.data;
}

/** Validates a request's query parameters: 400 with the zod issues in `details` when the schema rejects them. */
export function parseQuery<T extends z.ZodType>(schema: T, query: Record<string, string>): z.output<T> {
  const parsed = schema.safeParse(query);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join(".") || "(query)");
    throw new ApiError("BAD_REQUEST", `invalid query: ${fields.join(", ")}`, zodIssueDetails(parsed.error));
  }
  return parsed.data;
}
