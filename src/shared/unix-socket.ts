import { chmodSync, rmSync } from "node:fs";
import type { Socket, UnixSocketListener } from "bun";
import type { LineConnection } from "./line-connection.ts";

/**
 * Whether something accepts connections on the unix socket at `path`: a runner that finds its
 * socket answered must not start a second instance (it would unlink the live one's socket).
 */
export async function isSocketAnswering(path: string, timeoutMs = 2000): Promise<boolean> {
  let timer: Timer | undefined;
  try {
    const connect = Bun.connect({ unix: path, socket: { data() {} } });
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("timeout")), timeoutMs);
    });
    const socket = await Promise.race([connect, timeout]);
    socket.end();
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** The state every JSON-lines socket listener keeps per connection. */
export interface LineSocketData {
  conn: LineConnection;
}

/**
 * Listens on a unix socket for JSON-lines connections, the socket created with `mode` from the
 * start (the umask is narrowed around the bind): no window in which anyone else could connect.
 * `onOpen` must set `socket.data.conn`.
 */
export function listenLines<T extends LineSocketData>(
  path: string,
  mode: number,
  onOpen: (socket: Socket<T>) => void,
  onError: (error: Error) => void,
): UnixSocketListener<T> {
  rmSync(path, { force: true });
  const previousUmask = process.umask(0o777 & ~mode);
  let listener: UnixSocketListener<T>;
  try {
    listener = Bun.listen<T>({
      unix: path,
      socket: {
        open: onOpen,
        data: (socket, data) => socket.data.conn.receive(data),
        drain: (socket) => socket.data.conn.flush(),
        close: (socket) => socket.data?.conn.closedByPeer(),
        error: (_socket, error) => onError(error),
      },
    });
  } finally {
    process.umask(previousUmask);
  }
  chmodSync(path, mode);
  return listener;
}
