import { chmodSync, lstatSync, mkdirSync, unlinkSync } from "node:fs";
import { connect, type Server } from "node:net";
import { dirname } from "node:path";

/** sun_path is 108 bytes on Linux, including the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 107;

function probeListening(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * Removes a socket file left by a dead process. A live listener or a path that is not a socket is an
 * error: starting must never steal another process's socket or delete a regular file.
 */
async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  if (!isSocket) throw new Error(`${path} exists and is not a socket`);
  if (await probeListening(path)) throw new Error(`another process is already listening on ${path}`);
  unlinkSync(path);
}

/**
 * Listens on a unix socket created 0600: the umask is narrowed while the socket file is bound, so there
 * is no moment in which another user could connect; the chmod afterwards only confirms it.
 */
export async function listenOnUnixSocket(server: Pick<Server, "listen" | "once" | "off">, path: string) {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    throw new Error(`socket path is longer than ${MAX_SOCKET_PATH_BYTES} bytes: ${path}`);
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  await removeStaleSocket(path);
  const previousUmask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } finally {
    process.umask(previousUmask);
  }
  chmodSync(path, 0o600);
}
