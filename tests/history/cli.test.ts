/** `oqto hstry` as a process: flags, default paths, start failures, clean shutdown on SIGTERM. */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { createHistoryClient } from "../../src/history/client.ts";
import { runProcess } from "../helpers/run-process.ts";
import { type EmbeddedHstry, startEmbeddedHstry } from "./helpers.ts";

const ENTRY = resolve(import.meta.dir, "fixtures/run-hstry.ts");
const root = mkdtempSync("/tmp/hc-");
const env = {
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  HOME: root,
  XDG_STATE_HOME: join(root, "state"),
  XDG_DATA_HOME: join(root, "data"),
  XDG_CONFIG_HOME: join(root, "config"),
};

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Starts the command and resolves once it logs that it listens; stderr is collected throughout. */
async function startCommand(args: string[]) {
  const proc = Bun.spawn([process.execPath, ENTRY, ...args], { env, stdout: "ignore", stderr: "pipe" });
  let stderr = "";
  const reader = proc.stderr.getReader();
  const decoder = new TextDecoder();
  const pump = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      stderr += decoder.decode(value);
    }
  })();
  const deadline = Date.now() + 10_000;
  while (!stderr.includes("listening on") && proc.exitCode === null && Date.now() < deadline) {
    await Bun.sleep(20);
  }
  return {
    proc,
    stderr: () => stderr,
    async stop(): Promise<number> {
      proc.kill("SIGTERM");
      const code = await proc.exited;
      await pump;
      return code;
    },
  };
}

describe("oqto hstry", () => {
  test("--help prints usage", async () => {
    const { code, stdout } = await runProcess([process.execPath, ENTRY, "--help"], { env });
    expect(code).toBe(0);
    expect(stdout).toContain("usage: oqto hstry");
    expect(stdout).toContain("--socket PATH");
  });

  test("an unexpected argument is exit 2 with usage; an unknown flag names itself", async () => {
    const extra = await runProcess([process.execPath, ENTRY, "serve"], { env });
    expect(extra.code).toBe(2);
    expect(extra.stderr).toContain("unexpected argument 'serve'");
    const flag = await runProcess([process.execPath, ENTRY, "--tcp-port", "1"], { env });
    expect(flag.code).not.toBe(0);
    expect(flag.stderr).toContain("tcp-port");
  });

  test("serves on --socket with --db, and SIGTERM shuts down cleanly", async () => {
    const socketPath = join(root, "run", "h.sock");
    const dbPath = join(root, "db", "h.db");
    const command = await startCommand(["--socket", socketPath, "--db", dbPath]);
    expect(command.stderr()).toContain(`listening on ${socketPath}`);
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);

    const client = createHistoryClient({ socketPath });
    const written = await client.write.writeConversation({
      conversation: { sourceId: "pi", externalId: "cli", createdAtMs: 1n },
      messages: [{ idx: 0, role: "user", content: "via the command" }],
    });
    expect(written.messageCount).toBe(1);
    client.close();

    expect(await command.stop()).toBe(0);
    expect(command.stderr()).toContain("shutting down");
    expect(existsSync(socketPath)).toBe(false);
    expect(statSync(dbPath).mode & 0o777).toBe(0o600);
  });

  test("defaults: socket in $XDG_STATE_HOME/oqto, DB in the data dir", async () => {
    const dataDir = join(root, "custom-data");
    const command = await startCommand(["--data-dir", dataDir]);
    const socketPath = join(root, "state", "oqto", "hstry.sock");
    expect(command.stderr()).toContain(`listening on ${socketPath} (db ${join(dataDir, "history.db")})`);
    expect(existsSync(socketPath)).toBe(true);
    expect(await command.stop()).toBe(0);
  });

  test("a socket another service already serves is exit 1 with the reason", async () => {
    let embedded: EmbeddedHstry | undefined;
    try {
      embedded = await startEmbeddedHstry();
      const { code, stderr } = await runProcess(
        [process.execPath, ENTRY, "--socket", embedded.socketPath, "--db", join(root, "x.db")],
        { env },
      );
      expect(code).toBe(1);
      expect(stderr).toContain("already listening");
    } finally {
      await embedded?.close();
    }
  });
});
