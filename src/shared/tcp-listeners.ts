import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";

/** A listening TCP socket as /proc/net/tcp{,6} shows it. */
export interface TcpListener {
  /** As the kernel has it: `0.0.0.0`, `127.0.0.1`, `::`, `::1`, … */
  host: string;
  port: number;
  /** The owner's uid. */
  uid: number;
  inode: string;
}

/** /proc/net/tcp's address: IPv4 as one little-endian word, IPv6 as four. */
function decodeHost(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((word) =>
    (word.match(/../g) ?? []).reverse().map((pair) => Number.parseInt(pair, 16)),
  );
  if (bytes.length === 4) return bytes.join(".");
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  // The shortest form of the two addresses that matter (wildcard, loopback); others in full.
  const full = groups.join(":");
  if (full === "0:0:0:0:0:0:0:0") return "::";
  if (full === "0:0:0:0:0:0:0:1") return "::1";
  return full;
}

/**
 * The listening TCP sockets of a network namespace: `procDir` is /proc (this namespace) or
 * /proc/<pid> (that process's). Unreadable tables are skipped.
 */
export function tcpListeners(procDir: string): TcpListener[] {
  const found: TcpListener[] = [];
  for (const table of ["net/tcp", "net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(join(procDir, table), "utf8");
    } catch {
      continue;
    }
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
    for (const line of text.split("\n").slice(1)) {
      const [, local, , state, , , , uid, , inode] = line.trim().split(/\s+/);
      if (!local || state !== "0A" || uid === undefined || !inode) continue;
      const [host = "", port = ""] = local.split(":");
      found.push({ host: decodeHost(host), port: Number.parseInt(port, 16), uid: Number(uid), inode });
    }
  }
  return found;
}

/** The socket inodes among a process's open fds; undefined when its fds are not ours to read. */
export function socketInodesOf(pidDir: string): Set<string> | undefined {
  let fds: string[];
  try {
    fds = readdirSync(join(pidDir, "fd"));
  } catch {
    return undefined;
  }
  const inodes = new Set<string>();
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(join(pidDir, "fd", fd)));
      if (match?.[1]) inodes.add(match[1]);
    } catch {
      // the fd closed while we looked
    }
  }
  return inodes;
}
