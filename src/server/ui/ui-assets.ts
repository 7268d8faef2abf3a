import { existsSync } from "node:fs";
import { join } from "node:path";
import { PREBUILT_UI_DIR, PREBUILT_UI_MANIFEST, readPrebuiltUi } from "./prebuilt-ui.ts";
import { type UiAsset, type UiAssets, type UiEncodedBodies, uiAssetsOf, uiEtag } from "./ui-asset.ts";
import { type BuiltUiFile, buildUi } from "./ui-build.ts";
import { compressBody, isCompressible, UI_ENCODINGS } from "./ui-compression.ts";

export type { UiAsset, UiAssets, UiBody } from "./ui-asset.ts";

/**
 * Built files held in memory. Each is compressed (quick settings, see CompressionEffort) when it is
 * first asked for: most servers run from source are test stacks that no browser ever loads.
 */
function inMemory(files: BuiltUiFile[]): UiAssets {
  return uiAssetsOf(
    files.map((file): [string, UiAsset] => {
      let encoded: Promise<UiEncodedBodies> | undefined;
      const compress = async (): Promise<UiEncodedBodies> => {
        const result: UiEncodedBodies = {};
        if (!isCompressible(file.contentType)) return result;
        const bodies = await compressBody(file.body, "quick");
        for (const encoding of UI_ENCODINGS) {
          const body = bodies[encoding];
          if (body) result[encoding] = { body, etag: uiEtag(file.hash, encoding) };
        }
        return result;
      };
      return [
        file.name,
        {
          contentType: file.contentType,
          immutable: !file.name.endsWith(".html"),
          identity: { body: file.body, etag: uiEtag(file.hash, "identity") },
          encoded: () => {
            encoded ??= compress();
            return encoded;
          },
        },
      ];
    }),
  );
}

/**
 * Loads the UI. The binary from `bun run build` carries it built and compressed (brotli 11,
 * gzip 9) in PREBUILT_UI_DIR, served straight from the embedded files, nothing copied to the
 * heap; from source it is built here from `indexHtml`, in memory, with the same options, and
 * compressed on demand. Either way the files are served by our own route, so every UI answer gets
 * Oqto's security headers (Bun's built-in HTML route takes none).
 */
export async function loadUiAssets(indexHtml: string): Promise<UiAssets> {
  if (!Bun.isStandaloneExecutable) return inMemory(await buildUi(indexHtml));
  const prebuilt = join(import.meta.dir, PREBUILT_UI_DIR);
  if (!existsSync(join(prebuilt, PREBUILT_UI_MANIFEST)))
    throw new Error(
      "this binary carries no UI: build it with `bun run build` (scripts/build-ui.ts embeds dist/ui)",
    );
  return readPrebuiltUi(prebuilt);
}
