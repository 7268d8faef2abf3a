import type { UiEncoding } from "./ui-compression.ts";

/** One representation of a UI file: its bytes (in memory, or a file embedded in the binary) and ETag. */
export interface UiBody {
  body: Blob | Uint8Array<ArrayBuffer>;
  /** Differs per encoding: a cache holding the brotli bytes must not validate the gzip ones. */
  etag: string;
}

/** The file in each encoding that makes it smaller. */
export type UiEncodedBodies = Partial<Record<UiEncoding, UiBody>>;

/** One file of the built single-page UI, in identity and in each encoding that makes it smaller. */
export interface UiAsset {
  contentType: string;
  /** Content-hashed chunk: its name changes with its bytes, so browsers may keep it forever. */
  immutable: boolean;
  identity: UiBody;
  /** Prebuilt: there already. From source: compressed on the first request for the file, then kept. */
  encoded: () => Promise<UiEncodedBodies>;
}

/** The built UI: `index.html` for every page, its hashed chunks by URL path. */
export interface UiAssets {
  index: UiAsset;
  byPath: ReadonlyMap<string, UiAsset>;
}

/** ETag of the `encoding` representation of the file whose content hash is `hash`. */
export function uiEtag(hash: string, encoding: UiEncoding | "identity"): string {
  return encoding === "identity" ? `"${hash}"` : `"${hash}.${encoding === "br" ? "br" : "gz"}"`;
}

/** Index and chunks by path, from the files of one build. */
export function uiAssetsOf(files: Iterable<[name: string, asset: UiAsset]>): UiAssets {
  const byPath = new Map<string, UiAsset>();
  let index: UiAsset | undefined;
  for (const [name, asset] of files) {
    if (name.endsWith(".html")) index = asset;
    else byPath.set(`/${name}`, asset);
  }
  if (!index) throw new Error("the UI bundle has no index.html");
  return { index, byPath };
}
