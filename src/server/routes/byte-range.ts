import { ApiError } from "../http-errors.ts";

/**
 * What a download's Range header asks for (RFC 9110 §14). One range only. A header in another
 * unit is ignored (the whole file is sent), as §14.2 requires; a `bytes` header that does not
 * parse, names several ranges, or ends before it starts is the client's error: 400, rather than
 * a silent full download the client did not ask for. Whether a range fits the file is the
 * runner's call (416 with the size).
 */
export type RangeRequest =
  | { kind: "whole" }
  | { kind: "from"; start: number; end?: number }
  | { kind: "suffix"; length: number };

const UNIT = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)=(.*)$/s;
const SPEC = /^(\d*)-(\d*)$/;

function position(digits: string, header: string): number {
  const value = Number(digits);
  if (digits.length > 16 || !Number.isSafeInteger(value)) {
    throw new ApiError("BAD_REQUEST", `Range position out of bounds in '${header.slice(0, 100)}'`);
  }
  return value;
}

export function parseRange(header: string | undefined): RangeRequest {
  if (header === undefined || header.trim() === "") return { kind: "whole" };
  const unit = UNIT.exec(header.trim());
  if (!unit) throw new ApiError("BAD_REQUEST", `malformed Range header '${header.slice(0, 100)}'`);
  if ((unit[1] as string).toLowerCase() !== "bytes") return { kind: "whole" };
  const specs = (unit[2] as string)
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (specs.length !== 1) {
    throw new ApiError(
      "BAD_REQUEST",
      specs.length === 0
        ? `malformed Range header '${header.slice(0, 100)}'`
        : "only one byte range per request is supported",
    );
  }
  const spec = SPEC.exec(specs[0] as string);
  if (!spec || (spec[1] === "" && spec[2] === "")) {
    throw new ApiError("BAD_REQUEST", `malformed Range header '${header.slice(0, 100)}'`);
  }
  const [, first = "", last = ""] = spec;
  if (first === "") return { kind: "suffix", length: position(last, header) };
  const start = position(first, header);
  if (last === "") return { kind: "from", start };
  const end = position(last, header);
  if (end < start) {
    throw new ApiError("BAD_REQUEST", `Range ends before it starts in '${header.slice(0, 100)}'`);
  }
  return { kind: "from", start, end };
}

/** The list of entity tags in If-None-Match (or `*`) matches `etag`, weakly (RFC 9110 §13.1.2). */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === "*") return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return header.split(",").some((tag) => opaque(tag) === opaque(etag));
}

/**
 * Whether a Range still applies under If-Range (RFC 9110 §13.1.5): an entity tag must match
 * strongly, a date must equal the file's Last-Modified; otherwise the whole file is sent.
 */
export function rangeStillValid(header: string | undefined, etag: string, lastModified: string): boolean {
  if (header === undefined) return true;
  const value = header.trim();
  if (value.startsWith('"') || value.startsWith("W/")) return value === etag;
  return value === lastModified;
}
