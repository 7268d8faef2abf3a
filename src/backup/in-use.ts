/** Whether a server, runner or history service still has the files a restore would replace. */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

export interface Holder {
  pid: number;
  command: string;
  path: string;
}

/**
 * Every process (other than this one) with one of `paths` (or its -wal/-shm) open, from /proc:
 * serve keeps the platform DB open and each history service its DB, for as long as they run.
 * Without root only our own processes are visible, which are the ones that can hold our files.
 */
export function processesHolding(paths: string[]): Holder[] {
  const wanted = new Set(paths.flatMap((path) => [path, `${path}-wal`, `${path}-shm`]));
  const holders: Holder[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      if (!wanted.has(target)) continue;
      let command = "?";
      try {
        command = readFileSync(`/proc/${entry}/cmdline`, "utf8")
          .split("\0")
          .filter(Boolean)
          .slice(0, 3)
          .join(" ");
      } catch {
        // gone meanwhile
      }
      holders.push({ pid: Number(entry), command, path: target });
      break;
    }
  }
  return holders;
}
