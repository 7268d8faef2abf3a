/**
 * First step of `bun run build`: the UI bundled and compressed once (brotli 11, gzip 9) into
 * dist/ui, which the compile step embeds in the binary (`--asset dist/ui`; see src/server/ui/prebuilt-ui.ts).
 */
import { resolve } from "node:path";
import { writePrebuiltUi } from "../src/server/ui/prebuilt-ui.ts";
import { buildUi } from "../src/server/ui/ui-build.ts";

const root = resolve(import.meta.dir, "..");
try {
  const started = performance.now();
  const files = await buildUi(resolve(root, "ui/index.html"));
  await writePrebuiltUi(resolve(root, "dist/ui"), files);
  const bytes = files.reduce((sum, file) => sum + file.body.length, 0);
  console.log(
    `build-ui: ${files.length} files, ${(bytes / 1024).toFixed(0)} KiB, compressed in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
} catch (error) {
  console.error(`build-ui: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
