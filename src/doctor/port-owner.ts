import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { socketInodesOf, tcpListeners } from "../shared/tcp-listeners.ts";

export interface PortOwner {
  uid: number;
  /** Undefined when /proc does not show which process holds the socket (another user's, as non-root). */
  pid?: number;
  command?: string;
}

/** The process with an open fd on one of the socket inodes, by scanning /proc/<pid>/fd. */
function processOf(procDir: string, inodes: Set<string>): number | undefined {
  for (const entry of readdirSync(procDir)) {
    if (!/^\d+$/.test(entry)) continue;
    const held = socketInodesOf(join(procDir, entry)); // undefined: gone, or another user's
    if (held && [...held].some((inode) => inodes.has(inode))) return Number(entry);
  }
  return undefined;
}

/** Who listens on a TCP port, as far as /proc tells; undefined when no listening socket is found. */
export function findPortOwner(port: number, procDir = "/proc"): PortOwner | undefined {
  const sockets = tcpListeners(procDir).filter((socket) => socket.port === port);
  const first = sockets[0];
  if (!first) return undefined;
  const pid = processOf(procDir, new Set(sockets.map((socket) => socket.inode)));
  if (pid === undefined) return { uid: first.uid };
  let command: string | undefined;
  try {
    command = readFileSync(join(procDir, String(pid), "cmdline"), "utf8")
      .split("\0")
      .filter(Boolean)
      .join(" ");
  } catch {
    command = undefined;
  }
  return { uid: first.uid, pid, ...(command ? { command } : {}) };
}
