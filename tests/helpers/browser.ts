/** Debian's Chromium driven by playwright-core, as every browser test launches it. */
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { type Browser, chromium } from "playwright-core";

/** Screenshots land here (git-ignored). */
export const OUTPUT_DIR = resolve(import.meta.dir, "../../test-output");
/** How long a UI assertion waits. */
export const WAIT_MS = 30_000;
// Without the background-networking flags Chromium keeps dialing out on a closed network.
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--headless",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function launchChromium(): Promise<Browser> {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  return chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
}
