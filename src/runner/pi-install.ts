import { existsSync, readFileSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import { z } from "zod";
import type { Config } from "../config/schema.ts";
import { ProtocolError } from "../protocol/common.ts";

const PI_PACKAGE = "@mariozechner/pi-coding-agent";
/** Where install.sh puts pi under its prefix, and pi's entry point in there (it runs `bun install`). */
const PI_DIR_IN_PREFIX = "lib/oqto/pi";
const CLI_IN_PI_DIR = `node_modules/${PI_PACKAGE}/dist/cli.js`;
/** Where `install.sh` puts pi with the default prefix (inside the sandbox's `/usr` bind). */
export const INSTALLED_PI_CLI = join("/usr/local", PI_DIR_IN_PREFIX, CLI_IN_PI_DIR);

/** pi of the install this binary belongs to: `PREFIX/lib/oqto/pi` beside `PREFIX/bin/oqto` (`--prefix`). */
export function prefixPiDir(): string {
  return join(dirname(dirname(process.execPath)), PI_DIR_IN_PREFIX);
}

export interface ResolvedPi {
  /** Executable that runs `cli` (bun, or the compiled oqto binary). */
  runtime: string;
  /** pi's `dist/cli.js`. */
  cli: string;
  /** Extra environment the runtime needs (`BUN_BE_BUN=1` for the compiled oqto binary). */
  env: Record<string, string>;
  version: string;
}

const PackageJson = z.object({ version: z.string().min(1) });

function locateCli(config: Config): string {
  const explicit = config.pi.cli ?? process.env.OQTO_PI_CLI;
  if (explicit) {
    if (!existsSync(explicit)) throw new ProtocolError("spawn_failed", `pi cli not found at ${explicit}`);
    return explicit;
  }
  // This binary's own install first, so an install under another prefix never runs another's pi.
  for (const installed of [join(prefixPiDir(), CLI_IN_PI_DIR), INSTALLED_PI_CLI])
    if (existsSync(installed)) return installed;
  try {
    // The package's main entry lives in dist/, next to cli.js.
    const cli = join(dirname(Bun.resolveSync(PI_PACKAGE, import.meta.dir)), "cli.js");
    if (existsSync(cli)) return cli;
  } catch {
    // Not resolvable (e.g. inside a compiled binary): fall through to the error below.
  }
  throw new ProtocolError(
    "spawn_failed",
    `pi not found: set pi.cli in the config or OQTO_PI_CLI, or install ${PI_PACKAGE} under ${prefixPiDir()} (install.sh does)`,
  );
}

function locateRuntime(config: Config): { runtime: string; env: Record<string, string> } {
  if (config.pi.runtime) {
    const runtime = config.pi.runtime.includes("/") ? config.pi.runtime : Bun.which(config.pi.runtime);
    if (!runtime || !existsSync(runtime)) {
      throw new ProtocolError("spawn_failed", `pi runtime not found: ${config.pi.runtime}`);
    }
    return { runtime, env: {} };
  }
  const bun = Bun.which("bun");
  if (bun) return { runtime: bun, env: {} };
  // No bun on the host: the compiled oqto binary embeds Bun and behaves as `bun` with BUN_BE_BUN=1.
  // A plain bun is preferred because BUN_BE_BUN leaks into everything pi spawns (PI-RPC.md gotcha 12).
  return { runtime: process.execPath, env: { BUN_BE_BUN: "1" } };
}

function readVersion(cli: string): string {
  const file = join(dirname(dirname(cli)), "package.json");
  try {
    return PackageJson.parse(JSON.parse(readFileSync(file, "utf8"))).version;
  } catch (error) {
    throw new ProtocolError(
      "spawn_failed",
      `cannot read pi version from ${file}: ${(error as Error).message}`,
    );
  }
}

/** Finds pi's cli.js, the runtime that runs it, and pi's version. Throws `spawn_failed` with the reason. */
export function resolvePi(config: Config): ResolvedPi {
  const cli = locateCli(config);
  const { runtime, env } = locateRuntime(config);
  // The real file, not a PATH symlink to it: the sandbox binds the runtime itself, and a link
  // whose target lies outside the bound dirs would not resolve inside.
  return { runtime: realpathSync(runtime), cli, env, version: readVersion(cli) };
}
