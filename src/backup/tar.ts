/**
 * The archive is a gzip-compressed tar made and read by GNU tar, which streams: Bun.Archive holds
 * every member in memory, and it silently writes Bun.file() members as empty files (Bun 1.4.5).
 */
export class TarError extends Error {}

function run(argv: string[]): void {
  const result = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) {
    const why = result.stderr.toString().trim().split("\n").slice(-2).join("; ");
    throw new TarError(why || `${argv[0]} exited ${result.exitCode}`);
  }
}

/** Packs `members` (paths relative to `dir`) into the gzip'd tar `file`, every member owned by 0:0. */
export function createTar(file: string, dir: string, members: string[]): void {
  run([
    "tar",
    "--create",
    "--gzip",
    "--file",
    file,
    "--directory",
    dir,
    "--owner=0",
    "--group=0",
    "--numeric-owner",
    "--",
    ...members,
  ]);
}

/**
 * The member names of `file`, after gzip checked the whole stream's CRC and length: tar stops at the
 * end-of-archive blocks and can list a damaged file without an error.
 */
export function listTar(file: string): string[] {
  run(["gzip", "--test", "--quiet", "--", file]);
  const result = Bun.spawnSync(["tar", "--list", "--file", file], { stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) {
    const why = result.stderr.toString().trim().split("\n").slice(-2).join("; ");
    throw new TarError(why || `tar exited ${result.exitCode}`);
  }
  return result.stdout
    .toString()
    .split("\n")
    .filter((line) => line.length > 0);
}

/** Extracts `members` of `file` into `dir` as plain files of the caller, whatever owners and modes the archive claims. */
export function extractTar(file: string, dir: string, members: string[]): void {
  run([
    "tar",
    "--extract",
    "--file",
    file,
    "--directory",
    dir,
    "--no-same-owner",
    "--no-same-permissions",
    "--no-overwrite-dir",
    "--",
    ...members,
  ]);
}
