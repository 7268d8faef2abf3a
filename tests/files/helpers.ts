import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FileService, type FileServiceLimits } from "../../src/runner/files/file-service.ts";

export const SECRET = "OUTSIDE-SECRET-do-not-leak";

export interface FilesFixture {
  /** Temp dir holding everything below. */
  base: string;
  /** The user's workspace root, and one workspace in it. */
  root: string;
  ws: string;
  /** Outside the root: stands for /etc or another user's home. Holds secret.txt. */
  outside: string;
  service: FileService;
  /** Names under `outside`, recursively, to prove nothing was written there. */
  outsideListing(): string[];
  cleanup(): Promise<void>;
}

export function makeFixture(limits: Partial<FileServiceLimits> = {}): FilesFixture {
  const base = mkdtempSync("/tmp/of-");
  const root = join(base, "root");
  const ws = join(root, "ws");
  const outside = join(base, "other-home");
  mkdirSync(ws, { recursive: true });
  mkdirSync(join(outside, "sub"), { recursive: true });
  writeFileSync(join(outside, "secret.txt"), SECRET);
  writeFileSync(join(outside, "sub", "secret.txt"), SECRET);
  const service = new FileService({ workspaceRoot: root, limits });
  return {
    base,
    root,
    ws,
    outside,
    service,
    outsideListing: () => (readdirSync(outside, { recursive: true }) as string[]).sort(),
    cleanup: async () => {
      await service.close();
      rmSync(base, { recursive: true, force: true });
    },
  };
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Deterministic pseudo-random bytes (xorshift), different for each seed. */
export function randomBytes(length: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Reads a whole stream into one buffer. */
export async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Awaits a promise that must fail with a ProtocolError of `code`; returns its message. */
export async function expectCode(promise: Promise<unknown>, code: string): Promise<string> {
  try {
    await promise;
  } catch (error) {
    const actual = (error as { code?: unknown }).code;
    if (actual !== code)
      throw new Error(`expected error code ${code}, got ${String(actual)}: ${String(error)}`);
    return (error as Error).message;
  }
  throw new Error(`expected error code ${code}, but the call succeeded`);
}
