import { dirname } from "node:path";

/**
 * The argv prefix that runs this program again: the compiled binary alone, or the Bun
 * runtime plus the entry script when run from source.
 */
export function selfCommand(): string[] {
  const entry = Bun.main;
  // Compiled executables embed their entry in Bun's virtual file system.
  if (entry.startsWith("/$bunfs/") || entry.startsWith("B:/~BUN/")) return [process.execPath];
  return [process.execPath, entry];
}

/**
 * Host paths that must be readable for `selfCommand()` to run inside a sandbox: the executable,
 * and the source tree when run from source. Source runs load only what the command imports, so
 * commands meant for the sandbox (`sandbox-shim`) import nothing outside src/.
 */
export function selfCommandPaths(): string[] {
  const [executable, entry] = selfCommand();
  return entry === undefined ? [executable as string] : [executable as string, dirname(dirname(entry))];
}
