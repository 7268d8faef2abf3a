import { join } from "node:path";
import { sameMachineOrigin } from "../shared/same-machine-origin.ts";
import { socketInodesOf, type TcpListener, tcpListeners } from "../shared/tcp-listeners.ts";

export type ListenAddress = Pick<TcpListener, "host" | "port">;

/**
 * The TCP ports a process listens on, from its network namespace's socket tables and its open fds;
 * undefined when its fds are not ours to read (another user's process, and we are not root).
 */
export function listeningAddresses(pid: number, procDir = "/proc"): ListenAddress[] | undefined {
  const dir = join(procDir, String(pid));
  const inodes = socketInodesOf(dir);
  if (!inodes) return undefined;
  return tcpListeners(dir)
    .filter((socket) => inodes.has(socket.inode))
    .map(({ host, port }) => ({ host, port }));
}

/** The URL `oqto status` reaches a listener at: a wildcard address through loopback, as pi reaches the gateway. */
export const urlOf = ({ host, port }: ListenAddress): string => sameMachineOrigin(host, port);
