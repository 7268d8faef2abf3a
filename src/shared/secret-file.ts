import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { dirname } from "node:path";

/**
 * A secret kept in a file of its own: generated at first use (32 random bytes, base64url, mode 0600 in a
 * 0700 directory) and reused afterwards. `what` names it in errors. A file shorter than `minBytes` is an
 * error rather than silently replaced: whatever it protected would be lost with it.
 */
export function loadOrCreateSecretFile(path: string, what: string, minBytes = 32): string {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const generated = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
    try {
      // "wx": if another process created the file first, fall through and use its secret.
      const fd = openSync(path, "wx", 0o600);
      try {
        writeSync(fd, `${generated}\n`);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  const secret = readFileSync(path, "utf8").trim();
  if (Buffer.byteLength(secret) < minBytes) {
    throw new Error(`${path} holds ${what} shorter than ${minBytes} bytes; delete it to regenerate`);
  }
  chmodSync(path, 0o600);
  return secret;
}
