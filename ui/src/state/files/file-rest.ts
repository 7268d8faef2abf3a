import { z } from "zod";
import { RestError } from "../../../../src/protocol/index.ts";
import { decodeText } from "../../lib/base64.ts";
import { fileUrl } from "../../lib/file-urls.ts";

/**
 * Files above this open read-only (their first part shown): an editor holding many megabytes
 * would be slow to open, and saving a part would cut the file.
 */
export const MAX_EDITABLE_BYTES = 2 * 1024 * 1024;

export type TextRead =
  | { kind: "text"; text: string; size: number; truncated: boolean; etag: string }
  | { kind: "binary"; size: number };

/** The save was refused because the file is no longer the version it names (HTTP 412). */
export class SaveConflict extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SaveConflict";
  }
}

const Saved = z.object({ path: z.string(), size: z.number(), etag: z.string() });

async function failure(response: Response): Promise<Error> {
  const body = RestError.safeParse(await response.json().catch(() => null));
  return new Error(body.success ? body.data.error : `${response.status} ${response.statusText}`);
}

function get(url: string, headers: Record<string, string>): Promise<Response> {
  // no-store: the tag must be the one of the bytes read, never a cached copy's.
  return fetch(url, { headers, cache: "no-store", credentials: "same-origin" });
}

/**
 * Reads a workspace file over REST (PROTOCOL.md §4.2) with its ETag: the first
 * MAX_EDITABLE_BYTES, as one range, so a huge file costs one window, not its size.
 */
export async function readTextFile(workspace: string, path: string): Promise<TextRead> {
  const url = fileUrl(workspace, path);
  let response = await get(url, { range: `bytes=0-${MAX_EDITABLE_BYTES - 1}` });
  // An empty file has no byte a range could name (416): it is read whole.
  if (response.status === 416) response = await get(url, {});
  if (!response.ok) throw await failure(response);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const total = /\/(\d+)$/.exec(response.headers.get("content-range") ?? "")?.[1];
  const size = total === undefined ? bytes.length : Number(total);
  const truncated = size > bytes.length;
  const text = decodeText(bytes, truncated);
  if (text === null) return { kind: "binary", size };
  return { kind: "text", text, size, truncated, etag: response.headers.get("etag") ?? "" };
}

/**
 * Writes `text` as the whole file. `expected` is the version the editor loaded: the server writes
 * only over that one (If-Match), or only a new file when there was none (If-None-Match: *);
 * "any" writes unconditionally (the user chose to overwrite). Resolves with the new ETag.
 */
export async function writeTextFile(
  workspace: string,
  path: string,
  text: string,
  expected: { etag: string } | "new" | "any",
): Promise<string> {
  const headers: Record<string, string> = { "content-type": "application/octet-stream" };
  if (expected === "new") headers["if-none-match"] = "*";
  else if (expected !== "any") headers["if-match"] = expected.etag;
  let response: Response;
  try {
    response = await fetch(fileUrl(workspace, path, { createParents: true }), {
      method: "PUT",
      headers,
      body: text,
      credentials: "same-origin",
    });
  } catch {
    throw new Error("The server cannot be reached.");
  }
  if (response.status === 412) throw new SaveConflict((await failure(response)).message);
  if (!response.ok) throw await failure(response);
  return Saved.parse(await response.json()).etag;
}
