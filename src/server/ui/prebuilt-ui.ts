import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { type UiAsset, type UiAssets, type UiEncodedBodies, uiAssetsOf, uiEtag } from "./ui-asset.ts";
import type { BuiltUiFile } from "./ui-build.ts";
import { compressBody, isCompressible, UI_ENCODINGS, type UiEncoding } from "./ui-compression.ts";

/**
 * `bun run build` writes the UI into dist/ui (scripts/build-ui.ts) and embeds that folder in the
 * binary (`--asset dist/ui`), where it appears as `ui` beside the bundled code.
 */
export const PREBUILT_UI_DIR = "ui";
export const PREBUILT_UI_MANIFEST = "ui-manifest.json";

/** File name of each encoding beside the identity file. */
const SUFFIX: Record<UiEncoding, string> = { br: ".br", gzip: ".gz" };

const Manifest = z.strictObject({
  files: z.array(
    z.strictObject({
      name: z.string().regex(/^[\w.-]+$/),
      content_type: z.string().min(1),
      hash: z.string().min(1),
      encodings: z.array(z.enum(UI_ENCODINGS)),
    }),
  ),
});

/** Writes the built files, each compressed once with the build settings, and their manifest into `dir`. */
export async function writePrebuiltUi(dir: string, files: BuiltUiFile[]): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const manifest: z.infer<typeof Manifest> = { files: [] };
  for (const file of files) {
    await Bun.write(join(dir, file.name), file.body);
    const bodies = isCompressible(file.contentType) ? await compressBody(file.body, "build") : {};
    const encodings: UiEncoding[] = [];
    for (const encoding of UI_ENCODINGS) {
      const body = bodies[encoding];
      if (!body) continue;
      await Bun.write(join(dir, file.name + SUFFIX[encoding]), body);
      encodings.push(encoding);
    }
    manifest.files.push({ name: file.name, content_type: file.contentType, hash: file.hash, encodings });
  }
  await Bun.write(join(dir, PREBUILT_UI_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** The UI written by `writePrebuiltUi`; bodies are the files themselves, read when served. */
export async function readPrebuiltUi(dir: string): Promise<UiAssets> {
  const parsed = Manifest.safeParse(await Bun.file(join(dir, PREBUILT_UI_MANIFEST)).json());
  if (!parsed.success) throw new Error(`the embedded UI's manifest is invalid: ${parsed.error.message}`);
  return uiAssetsOf(
    parsed.data.files.map((file): [string, UiAsset] => {
      const encoded: UiEncodedBodies = {};
      for (const encoding of file.encodings) {
        encoded[encoding] = {
          body: Bun.file(join(dir, file.name + SUFFIX[encoding])),
          etag: uiEtag(file.hash, encoding),
        };
      }
      return [
        file.name,
        {
          contentType: file.content_type,
          immutable: !file.name.endsWith(".html"),
          identity: { body: Bun.file(join(dir, file.name)), etag: uiEtag(file.hash, "identity") },
          encoded: () => Promise.resolve(encoded),
        },
      ];
    }),
  );
}
