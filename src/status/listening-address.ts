import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { sameMachineOrigin } from "../shared/same-machine-origin.ts";

export interface ListenAddress {
  /** As the kernel has it: `0.0.0.0`, `127.0.0.1`, `::`, `::1`, … */
  host: string;
  port: number;
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
 * The TCP ports a process listens on, from its network namespace's socket tables and its open fds;
 * undefined when its fds are not ours to read (another user's process, and we are not root).
 */
export function listeningAddresses(pid: number, procDir = "/proc"): ListenAddress[] | undefined {
  const dir = join(procDir, String(pid));
  let inodes: Set<string>;
  try {
    inodes = new Set(
      readdirSync(join(dir, "fd")).flatMap((fd) => {
        try {
          const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(join(dir, "fd", fd)));
          return match?.[1] ? [match[1]] : [];
        } catch {
          return [];
        }
      }),
    );
  } catch {
    return undefined;
  }
  const found: ListenAddress[] = [];
  for (const table of ["net/tcp", "net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(join(dir, table), "utf8");
    } catch {
      continue;
    }
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
    for (const line of text.split("\n").slice(1)) {
      const [, local, , state, , , , , , inode] = line.trim().split(/\s+/);
      if (!local || state !== "0A" || !inode || !inodes.has(inode)) continue;
      const [host = "", port = ""] = local.split(":");
      found.push({ host: decodeHost(host), port: Number.parseInt(port, 16) });
    }
  }
  return found;
}

/** The URL `oqto status` reaches a listener at: a wildcard address through loopback, as pi reaches the gateway. */
export const urlOf = ({ host, port }: ListenAddress): string => sameMachineOrigin(host, port);
