import { basename } from "node:path";
import type { HTMLBundle } from "bun";

/** One file of the built single-page UI, held in memory (the whole UI is under a megabyte). */
export interface UiAsset {
  body: Uint8Array<ArrayBuffer>;
  contentType: string;
  etag: string;
  /** Content-hashed chunk: its name changes with its bytes, so browsers may keep it forever. */
  immutable: boolean;
}

/** The built UI: `index.html` for every page, its hashed chunks by URL path. */
export interface UiAssets {
  index: UiAsset;
  byPath: ReadonlyMap<string, UiAsset>;
}

/**
 * Loads the UI from the `ui/index.html` import. `bun build --compile` embeds it already built
 * (`bundle.files`); from source it is built here, in memory, with the same bundler. Either way
 * the files are served by our own route, so every UI answer gets Oqto's security headers (Bun's
 * built-in HTML route takes none).
 */
export async function loadUiAssets(bundle: HTMLBundle): Promise<UiAssets> {
  const byPath = new Map<string, UiAsset>();
  let index: UiAsset | undefined;
  const add = (name: string, asset: UiAsset) => {
    if (name.endsWith(".html")) index = asset;
    else byPath.set(`/${name}`, asset);
  };
  if (bundle.files) {
    for (const file of bundle.files) {
      add(basename(file.path), {
        body: await Bun.file(file.path).bytes(),
        contentType: file.headers["content-type"],
        etag: `"${file.headers.etag}"`,
        immutable: file.loader !== "html",
      });
    }
  } else {
    const built = await Bun.build({
      entrypoints: [bundle.index],
      target: "browser",
      publicPath: "/",
      minify: true,
      // Code loaded with import() (the Usage page's chart library) becomes a chunk of its own, fetched
      // only by the page that needs it. `bun run build` passes --splitting for the compiled binary.
      splitting: true,
    });
    if (!built.success) throw new Error(`could not build the UI: ${built.logs.map(String).join("\n")}`);
    for (const output of built.outputs) {
      add(basename(output.path), {
        body: new Uint8Array(await output.arrayBuffer()),
        contentType: output.type,
        etag: `"${output.hash}"`,
        immutable: !output.path.endsWith(".html"),
      });
    }
  }
  if (!index) throw new Error("the UI bundle has no index.html");
  return { index, byPath };
}
