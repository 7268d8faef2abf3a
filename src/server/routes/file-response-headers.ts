/**
 * Headers that keep workspace file bytes inert in Oqto's origin (issue 11). An agent writes these
 * files, so an HTML, SVG or XML file opened from a link must not run script with the user's
 * session: the app's headers forbid sniffing another type, the CSP sandbox gives any document an opaque
 * origin with no script, and whatever is not a passive type downloads instead of rendering
 * unless the preview asks for an inline view (which the sandbox still confines).
 */

/** Types a browser only ever displays: no script, no links, no sub-resources. */
const PASSIVE_TYPES = new Set([
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
  "image/avif",
  "image/bmp",
  "image/x-icon",
  "text/plain",
]);

/**
 * Sent with every file byte the server relays, over the app's own headers (nosniff, CORP
 * same-origin: app.ts), which a route keeps when it sets its own.
 */
export const INERT_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "content-security-policy": "sandbox; default-src 'none'",
  // The preview frames file bytes (sandboxed); every other API answer is DENY.
  "x-frame-options": "SAMEORIGIN",
});

export function contentDisposition(kind: "inline" | "attachment", fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

/** Whether `mimeType` (parameters ignored) is one of the passive types shown inline by default. */
export function isPassiveType(mimeType: string): boolean {
  return PASSIVE_TYPES.has(mimeType.split(";")[0]?.trim().toLowerCase() ?? "");
}

/**
 * The headers of one file download: attachment when asked for, or when the type is not passive
 * and no inline view was asked for.
 */
export function fileResponseHeaders(
  mimeType: string,
  fileName: string,
  asked: { download: boolean; inline: boolean },
): Record<string, string> {
  const attachment = asked.download || (!asked.inline && !isPassiveType(mimeType));
  return {
    ...INERT_HEADERS,
    "content-type": mimeType,
    "content-disposition": contentDisposition(attachment ? "attachment" : "inline", fileName),
  };
}

/** The headers of a file download (whole or one range): size, validators and range support. */
export function downloadHeaders(
  file: { mime_type: string; size: number; start: number; length: number; modified_at: number; etag: string },
  fileName: string,
  asked: { download: boolean; inline: boolean; partial: boolean },
): Record<string, string> {
  const headers: Record<string, string> = {
    ...fileResponseHeaders(file.mime_type, fileName, asked),
    "content-length": String(file.length),
    "accept-ranges": "bytes",
    etag: file.etag,
    "last-modified": new Date(file.modified_at).toUTCString(),
    // Validators, not freshness: the browser asks again each time and gets a 304 while unchanged.
    "cache-control": "private, no-cache",
  };
  if (asked.partial) {
    headers["content-range"] = `bytes ${file.start}-${file.start + file.length - 1}/${file.size}`;
  }
  return headers;
}

/** A 304's headers: the download's own, without those that describe a body (RFC 9110 §15.4.5). */
export function notModifiedHeaders(headers: Record<string, string>): Record<string, string> {
  const kept = { ...headers };
  delete kept["content-length"];
  delete kept["content-range"];
  return kept;
}
