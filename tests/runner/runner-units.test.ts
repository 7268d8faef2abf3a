/** Replay buffer, client_id dedupe, session index, models files and pi location. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigSchema } from "../../src/config/schema.ts";
import { readModels, writeModelsFiles } from "../../src/runner/models-files.ts";
import { resolvePi } from "../../src/runner/pi-install.ts";
import { ReplayBuffer } from "../../src/runner/replay-buffer.ts";
import { ClientIdDedupe } from "../../src/runner/session-dedupe.ts";
import {
  findPiSessionFile,
  piSessionDirName,
  readPiSessionMessages,
} from "../../src/runner/session-files.ts";
import { SessionIndex } from "../../src/runner/session-index.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync("/tmp/oqu-");
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("ReplayBuffer", () => {
  const line = (seq: number, size = 10) => `${seq}:`.padEnd(size, "x");

  test("returns exactly the lines after a seq, and resync once they fell out by count", () => {
    const buffer = new ReplayBuffer(4, 1_000_000);
    for (let seq = 1; seq <= 6; seq++) buffer.push(seq, line(seq));
    expect(buffer.size).toBe(4);
    expect(buffer.since(4, 6)).toEqual({ lines: [line(5), line(6)], resync: false });
    expect(buffer.since(2, 6)).toEqual({ lines: [line(3), line(4), line(5), line(6)], resync: false });
    expect(buffer.since(6, 6)).toEqual({ lines: [], resync: false });
    expect(buffer.since(1, 6)).toEqual({ resync: true, droppedCount: 1 });
    expect(buffer.since(0, 6)).toEqual({ resync: true, droppedCount: 2 });
    expect(buffer.since(7, 6)).toEqual({ resync: true, droppedCount: 0 });
  });

  test("the byte bound evicts the oldest lines but keeps the newest", () => {
    const buffer = new ReplayBuffer(100, 35);
    for (let seq = 1; seq <= 5; seq++) buffer.push(seq, line(seq));
    expect(buffer.byteSize).toBeLessThanOrEqual(35);
    expect(buffer.since(2, 5)).toEqual({ lines: [line(3), line(4), line(5)], resync: false });
    buffer.push(6, line(6, 100));
    expect(buffer.size).toBe(1);
    expect(buffer.since(5, 6)).toEqual({ lines: [line(6, 100)], resync: false });
    // Multi-byte characters count as UTF-8 bytes.
    const utf8 = new ReplayBuffer(10, 7);
    utf8.push(1, "ééé");
    utf8.push(2, "é");
    expect(utf8.since(0, 2)).toEqual({ resync: true, droppedCount: 1 });
  });

  test("an empty buffer with seq 0 has nothing to replay", () => {
    expect(new ReplayBuffer(4, 100).since(0, 0)).toEqual({ lines: [], resync: false });
  });
});

describe("ClientIdDedupe", () => {
  test("remembers ids for the TTL and at most `capacity` of them", () => {
    const dedupe = new ClientIdDedupe(3, 1000);
    dedupe.add("a", 0);
    dedupe.add("b", 10);
    expect(dedupe.has("a", 500)).toBe(true);
    expect(dedupe.has("a", 1000)).toBe(false);
    expect(dedupe.has("b", 1000)).toBe(true);
    for (const id of ["c", "d", "e"]) dedupe.add(id, 1001);
    expect(dedupe.has("b", 1001)).toBe(false);
    expect(["c", "d", "e"].every((id) => dedupe.has(id, 1001))).toBe(true);
    dedupe.delete("d");
    expect(dedupe.has("d", 1001)).toBe(false);
  });
});

describe("SessionIndex", () => {
  test("upserts, finds by pi session id, lists by activity and survives reopening", () => {
    const stateDir = join(dir, "state");
    const index = new SessionIndex(stateDir);
    const record = {
      session_id: "s1",
      pi_session_id: "pi-1",
      pi_session_file: "/f/1.jsonl",
      workspace_path: "/w",
      provider: "fake",
      model: "fake-model",
      title: null,
      created_at: 1,
      last_activity: 5,
    };
    index.upsert(record);
    index.upsert({ ...record, session_id: "s2", pi_session_id: "pi-2", last_activity: 9 });
    index.upsert({ ...record, title: "T", created_at: 99, last_activity: 7 });
    index.close();
    const reopened = new SessionIndex(stateDir);
    expect(reopened.get("s1")).toEqual({ ...record, title: "T", last_activity: 7 });
    expect(reopened.findByPiSessionId("pi-2")?.session_id).toBe("s2");
    expect(reopened.list().map((r) => r.session_id)).toEqual(["s2", "s1"]);
    reopened.delete("s2");
    expect(reopened.get("s2")).toBeUndefined();
    reopened.close();
  });
});

describe("models files", () => {
  test("writes models.json 0600 and merges settings, always forcing provider maxRetries 0", async () => {
    const agentDir = join(dir, "agent");
    mkdirSync(agentDir, { recursive: true });
    writeFileSync(
      join(agentDir, "settings.json"),
      JSON.stringify({ theme: "dark", retry: { enabled: true } }),
    );
    const models = {
      providers: {
        p: { baseUrl: "http://x/v1", api: "openai-completions", apiKey: "k", models: [{ id: "m1" }] },
      },
    };
    await writeModelsFiles(agentDir, models, {
      defaultProvider: "p",
      retry: { enabled: false, provider: { maxRetries: 5 } },
    });
    expect(statSync(join(agentDir, "models.json")).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(join(agentDir, "models.json"), "utf8"))).toEqual(models);
    expect(JSON.parse(readFileSync(join(agentDir, "settings.json"), "utf8"))).toEqual({
      theme: "dark",
      defaultProvider: "p",
      retry: { enabled: false, provider: { maxRetries: 0 } },
    });
    await writeModelsFiles(agentDir, models);
    const settings = JSON.parse(readFileSync(join(agentDir, "settings.json"), "utf8"));
    expect(settings.retry.provider.maxRetries).toBe(0);

    expect(await readModels(agentDir)).toEqual([
      {
        id: "m1",
        name: "m1",
        api: "openai-completions",
        provider: "p",
        baseUrl: "http://x/v1",
        reasoning: false,
        input: ["text"],
        contextWindow: 128_000,
        maxTokens: 16_384,
        cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
      },
    ]);
  });

  test("bad input is refused with a clear error; a missing models.json lists nothing", async () => {
    await expect(writeModelsFiles(join(dir, "agent2"), { providers: "nope" })).rejects.toThrow(
      "models_json is not a pi models.json",
    );
    expect(await readModels(join(dir, "no-agent"))).toEqual([]);
    const broken = join(dir, "agent3");
    mkdirSync(broken);
    writeFileSync(join(broken, "models.json"), "{not json");
    await expect(readModels(broken)).rejects.toThrow("not valid JSON");
  });
});

describe("resolvePi", () => {
  test("finds pi in node_modules, runs it on bun, reads the version", () => {
    const pi = resolvePi(ConfigSchema.parse({}));
    expect(pi.cli).toEndWith("@mariozechner/pi-coding-agent/dist/cli.js");
    expect(pi.version).toBe("0.73.1");
    // The real file behind PATH's `bun`, so that the sandbox can bind it.
    expect(pi.runtime).toBe(realpathSync(Bun.which("bun") as string));
    expect(pi.env).toEqual({});
  });

  test("a runtime reached through a symlink resolves to its real file", () => {
    const dir = mkdtempSync(join(tmpdir(), "oqto-rt-"));
    try {
      const link = join(dir, "bun-link");
      symlinkSync(Bun.which("bun") as string, link);
      const pi = resolvePi(ConfigSchema.parse({ pi: { runtime: link } }));
      expect(pi.runtime).toBe(realpathSync(Bun.which("bun") as string));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("explicit cli and runtime are used, and missing ones are clear errors", () => {
    const resolved = resolvePi(ConfigSchema.parse({}));
    const pi = resolvePi(ConfigSchema.parse({ pi: { cli: resolved.cli, runtime: "bun" } }));
    expect(pi.cli).toBe(resolved.cli);
    expect(() => resolvePi(ConfigSchema.parse({ pi: { cli: "/nope/cli.js" } }))).toThrow(
      "pi cli not found at /nope/cli.js",
    );
    expect(() => resolvePi(ConfigSchema.parse({ pi: { runtime: "/nope/bun" } }))).toThrow(
      "pi runtime not found",
    );
  });
});

describe("pi session files", () => {
  test("reads the active branch's messages and finds files by pi session id", async () => {
    const sessions = join(dir, "sessions");
    const cwdDir = join(sessions, piSessionDirName("/home/alice/ws"));
    expect(piSessionDirName("/home/alice/ws")).toBe("--home-alice-ws--");
    mkdirSync(cwdDir, { recursive: true });
    const id = "01a20141-04ba-7764-b804-9dcbcf3487fc";
    const file = join(cwdDir, `2026-01-01T00-00-00-000Z_${id}.jsonl`);
    const user = (text: string) => ({ role: "user", content: [{ type: "text", text }], timestamp: 1 });
    const lines = [
      { type: "session", version: 3, id, timestamp: "x", cwd: "/home/alice/ws" },
      { type: "model_change", id: "a", parentId: null, provider: "fake", modelId: "m" },
      { type: "message", id: "b", parentId: "a", message: user("one") },
      { type: "message", id: "c", parentId: "b", message: user("abandoned branch") },
      { type: "message", id: "d", parentId: "b", message: user("two") },
    ];
    writeFileSync(file, `${lines.map((l) => JSON.stringify(l)).join("\n")}\n{"truncated`);
    const messages = await readPiSessionMessages(file);
    expect(messages?.map((m) => (m as { content: Array<{ text: string }> }).content[0]?.text)).toEqual([
      "one",
      "two",
    ]);
    expect(await readPiSessionMessages(join(dir, "missing.jsonl"))).toBeUndefined();
    expect(await findPiSessionFile(id, { sessionsRoot: sessions })).toBe(file);
    expect(await findPiSessionFile("0000aaaa-0000", { sessionsRoot: sessions })).toBeUndefined();
    expect(await findPiSessionFile("../../etc", { sessionsRoot: sessions })).toBeUndefined();
  });
});
