import { basename } from "node:path";

/** One file of the built UI, as the bundler made it. */
export interface BuiltUiFile {
  /** File name, served at `/<name>` (index.html is every page). */
  name: string;
  contentType: string;
  /** The bundler's content hash: the file's name carries it, so it also makes the ETag. */
  hash: string;
  body: Uint8Array<ArrayBuffer>;
}

/**
 * Bundles the single-page UI from its `index.html`, in memory. One set of options for both the
 * server run from source and `bun run build` (scripts/build-ui.ts), so both serve the same files.
 */
export async function buildUi(indexHtml: string): Promise<BuiltUiFile[]> {
  const built = await Bun.build({
    entrypoints: [indexHtml],
    target: "browser",
    publicPath: "/",
    minify: true,
    // Code loaded with import() (the terminal, the admin and account pages, the usage chart)
    // becomes chunks of their own, fetched only when first needed.
    splitting: true,
  });
  if (!built.success) throw new Error(`could not build the UI: ${built.logs.map(String).join("\n")}`);
  return Promise.all(
    built.outputs.map(async (output) => ({
      name: basename(output.path),
      contentType: output.type,
      hash: output.hash ?? Bun.hash(await output.arrayBuffer()).toString(36),
      body: new Uint8Array(await output.arrayBuffer()),
    })),
  );
}
