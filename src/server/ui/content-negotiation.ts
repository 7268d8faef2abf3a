import { UI_ENCODINGS, type UiEncoding } from "./ui-compression.ts";

/**
 * The encoding to answer with, from the request's Accept-Encoding (RFC 9110 §12.5.3): the highest
 * q-value among those `available`, ties going to the smaller (br before gzip); identity when none
 * is accepted. A client that refuses identity too still gets identity: every client can read it.
 */
export function preferredEncoding(
  acceptEncoding: string | undefined,
  available: readonly UiEncoding[],
): UiEncoding | "identity" {
  if (!acceptEncoding || available.length === 0) return "identity";
  const weights = new Map<string, number>();
  for (const part of acceptEncoding.split(",")) {
    const [coding, ...params] = part.split(";").map((s) => s.trim().toLowerCase());
    if (!coding) continue;
    const q = params.find((p) => p.startsWith("q="));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    weights.set(coding, Number.isFinite(weight) ? weight : 0);
  }
  let best: UiEncoding | "identity" = "identity";
  let bestWeight = 0;
  for (const encoding of UI_ENCODINGS) {
    if (!available.includes(encoding)) continue;
    const weight = weights.get(encoding) ?? weights.get("*") ?? 0;
    if (weight > bestWeight) {
      best = encoding;
      bestWeight = weight;
    }
  }
  return best;
}

/** True if If-None-Match names `etag` (or is `*`); weak and strong forms compare equal (RFC 9110 §13.1.2). */
export function matchesIfNoneMatch(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(",").some((tag) => {
    const candidate = tag.trim();
    return candidate === "*" || candidate.replace(/^W\//, "") === etag;
  });
}
