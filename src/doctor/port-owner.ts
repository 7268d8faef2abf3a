import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";

export interface PortOwner {
  uid: number;
  /** Undefined when /proc does not show which process holds the socket (another user's, as non-root). */
  pid?: number;
  command?: string;
}

/** The listening sockets on `port` in /proc/net/tcp and tcp6: their inode and owner's uid. */
function listeningSockets(procDir: string, port: number): { inode: string; uid: number }[] {
  const found: { inode: string; uid: number }[] = [];
  for (const table of ["net/tcp", "net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(join(procDir, table), "utf8");
    } catch {
      continue;
    }
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [, local, , state, , , , uid, , inode] = fields;
      if (!local || state !== "0A" || uid === undefined || inode === undefined) continue;
      if (Number.parseInt(local.split(":")[1] ?? "", 16) === port) found.push({ inode, uid: Number(uid) });
    }
  }
  return found;
}

/** The process with an open fd on one of the socket inodes, by scanning /proc/<pid>/fd. */
function processOf(procDir: string, inodes: Set<string>): number | undefined {
  for (const entry of readdirSync(procDir)) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(join(procDir, entry, "fd"));
    } catch {
      continue; // gone, or another user's
    }
    for (const fd of fds) {
      try {
        const target = readlinkSync(join(procDir, entry, "fd", fd));
        if (inodes.has(/^socket:\[(\d+)\]$/.exec(target)?.[1] ?? "")) return Number(entry);
      } catch {
        // the fd closed while we looked
      }
    }
  }
  return undefined;
}

/** Who listens on a TCP port, as far as /proc tells; undefined when no listening socket is found. */
export function findPortOwner(port: number, procDir = "/proc"): PortOwner | undefined {
  const sockets = listeningSockets(procDir, port);
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
