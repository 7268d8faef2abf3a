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
