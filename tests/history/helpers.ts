import { expect } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { createHistoryClient, type HistoryClient } from "../../src/history/client.ts";
import { type HstryService, startHstryService } from "../../src/history/service/server.ts";

/** An embedded service in a fresh temp dir (short path: unix socket paths must stay under 108 bytes). */
export interface EmbeddedHstry {
  dir: string;
  socketPath: string;
  dbPath: string;
  service: HstryService;
  client: HistoryClient;
  close(): Promise<void>;
}

export async function startEmbeddedHstry(): Promise<EmbeddedHstry> {
  const dir = mkdtempSync("/tmp/hs-");
  const socketPath = join(dir, "hstry.sock");
  const dbPath = join(dir, "history.db");
  const service = await startHstryService({ socketPath, dbPath, log: () => {} });
  const client = createHistoryClient({ socketPath });
  return {
    dir,
    socketPath,
    dbPath,
    service,
    client,
    async close() {
      client.close();
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Awaits a call that must fail with exactly `code` (never INTERNAL in disguise). */
export async function expectCode(call: Promise<unknown>, code: Code): Promise<ConnectError> {
  let caught: unknown;
  try {
    await call;
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ConnectError);
  const error = caught as ConnectError;
  expect(Code[error.code]).toBe(Code[code]);
  return error;
}
