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
