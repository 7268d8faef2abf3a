/**
 * connectHistory: the embedded `oqto hstry` as a supervised child (restart, orphan cleanup, stop) and
 * an external hstry from `[hstry]` config, against real processes and gRPC on unix sockets.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseConfig } from "../../src/config/load.ts";
import { connectHistory, type HistoryConnection } from "../../src/runner/history/history-connection.ts";

const MAIN = resolve(import.meta.dir, "../../src/cli/main.ts");
const OQTO = [process.execPath, MAIN];
let dir: string;

beforeAll(() => {
  dir = mkdtempSync("/tmp/oqc-");
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat[stat.lastIndexOf(")") + 2] !== "Z";
  } catch {
    return false;
  }
}

async function until(check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await Bun.sleep(50);
  }
}

/** A conversation round trip through the connection's store. */
async function roundTrip(connection: HistoryConnection, piSessionId: string): Promise<void> {
  await connection.store.writeConversation(
    { piSessionId, sessionId: `oqto-${piSessionId}`, workspace: "/w", createdAt: Date.now() },
    [],
  );
  expect((await connection.store.getConversation(piSessionId))?.sessionId).toBe(`oqto-${piSessionId}`);
}

const log = () => undefined;

describe("embedded", () => {
  test("starts oqto hstry in the runner's state dir, restarts it after a crash, and stops it", async () => {
    const dataDir = join(dir, "embedded");
    const connection = await connectHistory({ config: parseConfig(""), dataDir, log, oqtoCommand: OQTO });
    try {
      expect(connection.mode).toBe("embedded");
      expect(connection.status()).toEqual({ mode: "embedded", ok: true });
      const socket = join(dataDir, "runner", "hstry.sock");
      expect(statSync(socket).mode & 0o777).toBe(0o600);
      await roundTrip(connection, "p-1");
      expect(existsSync(join(dataDir, "history.db"))).toBe(true);

      const pidFile = join(dataDir, "runner", "hstry.pid");
      const first = Number(readFileSync(pidFile, "utf8"));
      process.kill(first, "SIGKILL");
      await until(() => !isAlive(first));
      await until(() => Number(readFileSync(pidFile, "utf8")) !== first);
      // The restarted service answers on the same socket with the same database.
      await until(async () => {
        try {
          return (await connection.store.getConversation("p-1")) !== null;
        } catch {
          return false;
        }
      });
      expect(connection.status().ok).toBe(true);
    } finally {
      await connection.stop();
    }
    expect(existsSync(join(dataDir, "runner", "hstry.sock"))).toBe(false);
    expect(existsSync(join(dataDir, "runner", "hstry.pid"))).toBe(false);
    expect(connection.status().ok).toBe(false);
  }, 60_000);

  test("a service left running by a killed runner is stopped and replaced", async () => {
    const dataDir = join(dir, "orphan");
    const stateDir = join(dataDir, "runner");
    const socket = join(stateDir, "hstry.sock");
    const orphan = Bun.spawn(
      [...OQTO, "hstry", "--data-dir", dataDir, "--socket", socket, "--db", join(dataDir, "history.db")],
      { stdout: "ignore", stderr: "ignore" },
    );
    await until(() => existsSync(socket));
    writeFileSync(join(stateDir, "hstry.pid"), `${orphan.pid}\n`);
    const connection = await connectHistory({ config: parseConfig(""), dataDir, log, oqtoCommand: OQTO });
    try {
      expect(await orphan.exited).toBe(0);
      await roundTrip(connection, "p-2");
      expect(Number(readFileSync(join(stateDir, "hstry.pid"), "utf8"))).not.toBe(orphan.pid);
    } finally {
      await connection.stop();
    }
  }, 60_000);
});

describe("external", () => {
  test("[hstry] socket connects to a running hstry and starts nothing", async () => {
    const socket = join(dir, "ext.sock");
    const service = Bun.spawn(
      [...OQTO, "hstry", "--data-dir", dir, "--socket", socket, "--db", join(dir, "ext.db")],
      { stdout: "ignore", stderr: "ignore" },
    );
    const dataDir = join(dir, "external");
    try {
      await until(() => existsSync(socket));
      const config = parseConfig(`[hstry]\nsocket = ${JSON.stringify(socket)}\n`);
      const connection = await connectHistory({ config, dataDir, log, oqtoCommand: OQTO });
      expect(connection.mode).toBe("external");
      await roundTrip(connection, "p-3");
      expect(connection.status()).toEqual({ mode: "external", ok: true });
      expect(existsSync(join(dataDir, "runner", "hstry.pid"))).toBe(false);
      await connection.stop();
      // Stopping the runner's connection leaves the external service alone.
      expect(service.exitCode).toBeNull();
    } finally {
      service.kill("SIGTERM");
      await service.exited;
    }
  }, 60_000);

  test("an external hstry that does not answer is reported, and calls fail as history_unavailable", async () => {
    const config = parseConfig(`[hstry]\nsocket = ${JSON.stringify(join(dir, "nobody.sock"))}\n`);
    const connection = await connectHistory({ config, dataDir: join(dir, "down"), log });
    try {
      expect(connection.status()).toEqual({ mode: "external", ok: false });
      const failure = await connection.store.getConversation("p").then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toMatchObject({ code: "history_unavailable" });
    } finally {
      await connection.stop();
    }
  });

  test("[hstry] accepts one of socket or url, with a clear error otherwise", () => {
    expect(parseConfig('[hstry]\nurl = "http://127.0.0.1:7000"\n').hstry).toEqual({
      url: "http://127.0.0.1:7000",
    });
    expect(() => parseConfig('[hstry]\nsocket = "/a"\nurl = "http://127.0.0.1:7000"\n')).toThrow(
      "set either hstry.socket or hstry.url, not both",
    );
    expect(() => parseConfig('[hstry]\nurl = "https://example.com"\n')).toThrow("hstry.url must be http://");
    expect(() => parseConfig("[hstry]\nport = 1\n")).toThrow("unknown key 'hstry.port'");
  });
});
