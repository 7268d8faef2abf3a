/**
 * Sessions driven over REST and followed over Server-Sent Events (issue 16, point 1), through the
 * real path: fetch or curl -> oqto serve -> oqto runner -> pi -> fake LLM. Nothing here speaks the
 * WebSocket.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AgentEvent } from "../../src/protocol/index.ts";
import { type SseClient as Sse, SseClient } from "../helpers/sse-client.ts";
import { type Stack, startStack } from "../helpers/stack.ts";
import { until } from "../helpers/wait.ts";

let stack: Stack;
let auth: Record<string, string>;

function post(path: string, body?: unknown, headers = auth): Promise<Response> {
  return fetch(`${stack.baseUrl}${path}`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function createSession(headers = auth): Promise<{ session_id: string; seq: number }> {
  const res = await post("/api/sessions", { workspace: "main" }, headers);
  expect(res.status).toBe(201);
  return (await res.json()) as { session_id: string; seq: number };
}

async function send(sessionId: string, message: string, mode = "prompt"): Promise<string> {
  const res = await post(`/api/sessions/${sessionId}/prompt`, { message, mode });
  expect(res.status).toBe(202);
  return ((await res.json()) as { command_id: string }).command_id;
}

function events(sessionId: string, headers: Record<string, string> = {}, query = ""): Promise<Sse> {
  return SseClient.open(`${stack.baseUrl}/api/sessions/${sessionId}/events${query}`, { ...auth, ...headers });
}

function ids(stream: Sse): number[] {
  return stream.messages.filter((m) => m.id !== undefined).map((m) => Number(m.id));
}

function text(stream: Sse): string {
  return stream
    .events()
    .filter((e) => e.event === "stream.text_delta")
    .map((e) => e.delta)
    .join("");
}

async function watchedSessions(): Promise<number> {
  const res = await fetch(`${stack.baseUrl}/api/metrics`, { headers: auth });
  const match = /^oqto_sessions_watched (\d+)$/m.exec(await res.text());
  if (!match) throw new Error("no oqto_sessions_watched in /api/metrics");
  return Number(match[1]);
}

beforeAll(async () => {
  stack = await startStack({ runnerConfig: "replay_buffer_events = 200" });
  auth = { authorization: `Bearer ${stack.admin.token}` };
  const res = await post("/api/workspaces", { name: "main" });
  expect(res.status).toBe(201);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
}, 15_000);

describe("a turn over REST", () => {
  test("create, prompt and read the SSE stream until agent.idle, with fetch only", async () => {
    const session = await createSession();
    expect(session.session_id).toMatch(/^oqto-/);
    const stream = await events(session.session_id);
    expect(stream.response.headers.get("content-type")).toStartWith("text/event-stream");
    await stack.fakeLlm.script([{ text: ["Hel", "lo ", "wor", "ld", "!"] }]);
    const commandId = await send(session.session_id, "say hello");
    expect(commandId).toMatch(/^rest-/);
    await stream.event("agent.idle", 60_000);
    expect(text(stream)).toBe("Hello world!");
    // Canonical events, unchanged: no mux channel key, every one valid, `id:` = seq, strictly rising.
    for (const event of stream.events()) {
      expect(event.channel).toBeUndefined();
      expect(AgentEvent.safeParse(event).success).toBe(true);
    }
    const seqs = stream.events().map((e) => e.seq as number);
    expect(ids(stream)).toEqual(seqs);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    const assistant = stream
      .events()
      .filter((e) => e.event === "stream.message_end")
      .map((e) => e.message as { role: string; parts: Array<{ type: string; text?: string }> })
      .find((m) => m.role === "assistant");
    expect(assistant?.parts.find((p) => p.type === "text")?.text).toBe("Hello world!");
    stream.close();
  });

  test("create with a model (and a thinking level, which the runner accepts): the turn uses that model", async () => {
    const res = await post("/api/sessions", {
      workspace: "main",
      model: "fake/fake-model-2",
      thinking: "high",
    });
    expect(res.status).toBe(201);
    const session = (await res.json()) as { session_id: string; workspace: string; workspace_path: string };
    expect(session.workspace).toBe("main");
    expect(session.workspace_path).toEndWith("/main");
    const stream = await events(session.session_id);
    await stack.fakeLlm.script([{ text: "thought about it" }]);
    await send(session.session_id, "think hard");
    await stream.event("agent.idle", 60_000);
    expect(JSON.stringify(stack.fakeLlm.requests().at(-1))).toContain('"model":"fake-model-2"');
    stream.close();
  });

  test("curl -N with an API key follows a whole turn", async () => {
    const made = await post("/api/keys", { name: "rest-sessions-curl" });
    expect(made.status).toBe(201);
    const { key } = (await made.json()) as { key: string };
    const keyAuth = { authorization: `Bearer ${key}` };
    const session = await createSession(keyAuth);
    const curl = Bun.spawn(
      [
        "curl",
        "-N",
        "-sS",
        "-H",
        `Authorization: Bearer ${key}`,
        `${stack.baseUrl}/api/sessions/${session.session_id}/events?after=${session.seq}`,
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    const output: string[] = [];
    const decoder = new TextDecoder();
    const reading = (async () => {
      for await (const chunk of curl.stdout) output.push(decoder.decode(chunk, { stream: true }));
    })();
    await until("curl's stream to open", () => (output.join("").includes(": subscribed") ? true : undefined));
    await stack.fakeLlm.script([{ text: ["from ", "curl"] }]);
    const res = await post(`/api/sessions/${session.session_id}/prompt`, { message: "hi curl" }, keyAuth);
    expect(res.status).toBe(202);
    await until(
      "agent.idle through curl",
      () => (output.join("").includes('"event":"agent.idle"') ? true : undefined),
      60_000,
    );
    curl.kill();
    await curl.exited;
    await reading;
    const lines = output.join("").split("\n");
    const data = lines.filter((l) => l.startsWith("data: ")).map((l) => JSON.parse(l.slice(6)));
    const idLines = lines.filter((l) => l.startsWith("id: ")).map((l) => Number(l.slice(4)));
    expect(idLines).toEqual(data.map((e) => e.seq));
    expect(
      data
        .filter((e) => e.event === "stream.text_delta")
        .map((e) => e.delta)
        .join(""),
    ).toBe("from curl");
  });

  test("heartbeats keep a quiet stream open past Bun's 10 s idle cut-off", async () => {
    const session = await createSession();
    const stream = await events(session.session_id);
    await Bun.sleep(16_000);
    expect(stream.comments).toContain("ping");
    await stack.fakeLlm.script([{ text: "still here" }]);
    await send(session.session_id, "are you there");
    await stream.event("agent.idle", 60_000);
    expect(text(stream)).toBe("still here");
    stream.close();
  }, 40_000);
});

describe("resume", () => {
  test("reconnecting with Last-Event-ID gets exactly the missed events, none twice", async () => {
    const session = await createSession();
    const all = await events(session.session_id, {}, `?after=${session.seq}`);
    const first = await events(session.session_id, {}, `?after=${session.seq}`);
    await stack.fakeLlm.script([{ text: Array.from({ length: 60 }, (_, i) => `r${i} `), delayMs: 15 }]);
    await send(session.session_id, "stream for the reconnect");
    await first.waitFor((m) => m.json.event === "stream.text_delta" && m.json.delta === "r5 ");
    first.close();
    const lastId = Math.max(...ids(first));
    await all.event("agent.idle", 60_000);

    const second = await events(session.session_id, { "last-event-id": String(lastId) });
    await second.event("agent.idle");
    const replayed = ids(second);
    expect(replayed[0]).toBe(lastId + 1);
    expect(replayed).toEqual(ids(all).filter((id) => id > lastId));
    expect(new Set([...ids(first), ...replayed]).size).toBe(ids(first).length + replayed.length);
    // Last-Event-ID wins over ?after= (EventSource reconnects to the same URL with the newer id).
    const both = await events(session.session_id, { "last-event-id": String(lastId) }, "?after=0");
    await both.event("agent.idle");
    expect(ids(both)).toEqual(replayed);
    for (const stream of [all, second, both]) stream.close();
  });

  test("a resume id the buffer no longer holds gives stream.resync_required, then live events", async () => {
    const session = await createSession();
    await stack.fakeLlm.script([{ text: Array.from({ length: 250 }, (_, i) => `x${i} `) }]);
    const watcher = await events(session.session_id);
    await send(session.session_id, "overflow the replay buffer");
    await watcher.event("agent.idle", 60_000);
    watcher.close();
    const stream = await events(session.session_id, {}, "?after=1");
    const resync = await stream.event("stream.resync_required");
    expect(resync.id).toBeUndefined();
    expect(resync.json.reason).toBe("replay_window");
    expect(resync.json.current_seq).toBe(Math.max(...ids(watcher)));
    await stack.fakeLlm.script([{ text: "after the resync" }]);
    await send(session.session_id, "go on");
    await stream.event("agent.idle", 60_000);
    expect(text(stream)).toBe("after the resync");
    stream.close();
  });
});

describe("steering and aborting over REST", () => {
  test("steer and follow_up reach the running turn", async () => {
    const session = await createSession();
    const stream = await events(session.session_id);
    await stack.fakeLlm.script([
      { text: Array.from({ length: 40 }, (_, i) => `a${i} `), delayMs: 25 },
      { match: "steer this way", text: "steered" },
      { match: "and then this", text: "followed" },
    ]);
    await send(session.session_id, "start long work");
    await stream.event("stream.text_delta");
    await send(session.session_id, "steer this way", "steer");
    await send(session.session_id, "and then this", "follow_up");
    await stream.waitFor(
      (m) => m.json.event === "queue.updated" && (m.json.follow_up as string[]).length === 1,
      10_000,
    );
    await stream.event("agent.idle", 60_000);
    const users = stream
      .events()
      .filter((e) => e.event === "stream.message_end")
      .map((e) => e.message as { role: string; parts: Array<{ text?: string }> })
      .filter((m) => m.role === "user")
      .map((m) => m.parts[0]?.text);
    expect(users).toEqual(["start long work", "steer this way", "and then this"]);
    expect(text(stream)).toContain("steered");
    expect(text(stream)).toContain("followed");
    stream.close();
  });

  test("abort ends the turn: 202 once it is idle, the last message aborted", async () => {
    const session = await createSession();
    const stream = await events(session.session_id);
    await stack.fakeLlm.script([{ text: Array.from({ length: 200 }, (_, i) => `w${i} `), delayMs: 30 }]);
    await send(session.session_id, "talk a lot");
    await stream.event("stream.text_delta");
    const res = await post(`/api/sessions/${session.session_id}/abort`);
    expect(res.status).toBe(202);
    const body = (await res.json()) as { command_id: string; was_running: boolean };
    expect(body.was_running).toBe(true);
    await stream.event("agent.idle", 5_000);
    const ends = stream.events().filter((e) => e.event === "stream.message_end");
    expect((ends.at(-1)?.message as { stop_reason?: string } | undefined)?.stop_reason).toBe("aborted");
    expect(text(stream).split(" ").length).toBeLessThan(200);
    const idle = await post(`/api/sessions/${session.session_id}/abort`);
    expect(((await idle.json()) as { was_running: boolean }).was_running).toBe(false);
    stream.close();
  });
});

describe("the stream's lifetime", () => {
  async function settlesAt(expected: number): Promise<number> {
    const deadline = Date.now() + 10_000;
    let now = await watchedSessions();
    while (now !== expected && Date.now() < deadline) {
      await Bun.sleep(50);
      now = await watchedSessions();
    }
    return now;
  }

  test("a client that goes away leaves no subscription behind (fetch aborted, curl killed)", async () => {
    const before = await watchedSessions();
    const session = await createSession();
    // The create's own connection left with its answer.
    expect(await settlesAt(before)).toBe(before);
    const stream = await events(session.session_id);
    expect(await watchedSessions()).toBe(before + 1);
    stream.close();
    await stream.ended;
    expect(await settlesAt(before)).toBe(before);

    const curl = Bun.spawn(
      [
        "curl",
        "-N",
        "-sS",
        "-H",
        `Authorization: ${auth.authorization}`,
        `${stack.baseUrl}/api/sessions/${session.session_id}/events`,
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    expect(await settlesAt(before + 1)).toBe(before + 1);
    curl.kill("SIGKILL");
    await curl.exited;
    expect(await settlesAt(before)).toBe(before);
  });

  test("the stream ends after the session's session.closed", async () => {
    const session = await createSession();
    const stream = await events(session.session_id);
    const res = await post(`/api/admin/sessions/${session.session_id}/stop`);
    expect(res.status).toBe(204);
    const closed = await stream.event("session.closed", 15_000);
    expect(closed.id).toBeDefined();
    await stream.ended;
    expect(stream.messages.at(-1)).toBe(closed);
  });
});

describe("authorization and bad input", () => {
  test("no credentials: 401 on every new route", async () => {
    const session = await createSession();
    const id = session.session_id;
    const anon = {};
    const answers = [
      await post("/api/sessions", { workspace: "main" }, anon),
      await post(`/api/sessions/${id}/prompt`, { message: "hi" }, anon),
      await post(`/api/sessions/${id}/abort`, undefined, anon),
      await post(`/api/sessions/${id}/input`, { request_id: "r1", value: "x" }, anon),
      await fetch(`${stack.baseUrl}/api/sessions/${id}/events`),
    ];
    for (const res of answers) {
      expect(res.status).toBe(401);
      expect(((await res.json()) as { code: string }).code).toBe("UNAUTHORIZED");
    }
  });

  test("another user's session is 404 on every session route, and stays intact", async () => {
    const victim = await createSession();
    await stack.fakeLlm.script([{ text: "private words" }]);
    const watcher = await events(victim.session_id);
    await send(victim.session_id, "a private turn");
    await watcher.event("agent.idle", 60_000);
    watcher.close();
    const mallory = { authorization: `Bearer ${await stack.addUser("mallory", "mallory-password")}` };
    const id = victim.session_id;
    const url = (path: string) => `${stack.baseUrl}/api/sessions/${id}${path}`;
    const json = { ...mallory, "content-type": "application/json" };
    const probes: Array<[string, RequestInit & { path: string }]> = [
      ["GET session", { path: "", headers: mallory }],
      [
        "PATCH session",
        { path: "", method: "PATCH", headers: json, body: JSON.stringify({ title: "mine" }) },
      ],
      ["DELETE session", { path: "", method: "DELETE", headers: mallory }],
      ["GET messages", { path: "/messages", headers: mallory }],
      ...["prompt", "steer", "follow_up"].map((mode): [string, RequestInit & { path: string }] => [
        `POST prompt (${mode})`,
        { path: "/prompt", method: "POST", headers: json, body: JSON.stringify({ message: "hi", mode }) },
      ]),
      ["POST abort", { path: "/abort", method: "POST", headers: mallory }],
      [
        "POST input",
        {
          path: "/input",
          method: "POST",
          headers: json,
          body: JSON.stringify({ request_id: "r1", cancelled: true }),
        },
      ],
      ["GET events", { path: "/events", headers: mallory }],
      ["GET events (resume)", { path: "/events?after=0", headers: { ...mallory, "last-event-id": "1" } }],
    ];
    for (const [name, { path, ...init }] of probes) {
      const res = await fetch(url(path), init);
      expect({ name, status: res.status }).toEqual({ name, status: 404 });
      expect(((await res.json()) as { code: string }).code).toBe("NOT_FOUND");
    }
    // Untouched: the owner still reads it and drives it.
    const messages = await fetch(url("/messages"), { headers: auth });
    expect(JSON.stringify(await messages.json())).toContain("private words");
    const stream = await events(id, {}, "?after=0");
    await stack.fakeLlm.script([{ text: "still mine" }]);
    await send(id, "again");
    await until(
      "the second turn's agent.idle",
      () => (stream.events().filter((e) => e.event === "agent.idle").length === 2 ? true : undefined),
      60_000,
    );
    expect(text(stream)).toContain("still mine");
    stream.close();
  });

  test("bad resume ids, modes, bodies and oversized prompts are clear 4xx", async () => {
    const session = await createSession();
    const id = session.session_id;
    const expectError = async (res: Response, status: number) => {
      expect(res.status).toBe(status);
      const body = (await res.json()) as { error: string; code: string };
      expect(typeof body.error).toBe("string");
      expect(body.code).toMatch(/^[A-Z_]+$/);
      return body;
    };
    for (const bad of ["abc", "-1", "1.5", "1e3", "0x10", "9".repeat(16), "1,2", "1 2"]) {
      const res = await fetch(`${stack.baseUrl}/api/sessions/${id}/events`, {
        headers: { ...auth, "last-event-id": bad },
      });
      const body = await expectError(res, 400);
      expect(body.error).toContain("Last-Event-ID");
    }
    for (const query of ["?after=abc", "?after=-3", "?after=", "?since=4", "?after=1&after=2"]) {
      await expectError(
        await fetch(`${stack.baseUrl}/api/sessions/${id}/events${query}`, { headers: auth }),
        400,
      );
    }
    const prompt = (body: unknown) => post(`/api/sessions/${id}/prompt`, body);
    for (const body of [
      { message: "hi", mode: "shout" },
      { message: "hi", mode: "PROMPT" },
      { message: "hi", mode: "abort" },
      { message: "   " },
      { mode: "prompt" },
      { message: 42 },
      { message: "hi", surprise: true },
      [],
      "hi",
    ]) {
      await expectError(await prompt(body), 400);
    }
    const huge = await prompt({ message: "x".repeat(1024 * 1024 + 1) });
    expect((await expectError(huge, 413)).code).toBe("PAYLOAD_TOO_LARGE");
    const plain = await fetch(`${stack.baseUrl}/api/sessions/${id}/prompt`, {
      method: "POST",
      headers: { ...auth, "content-type": "text/plain" },
      body: "hi",
    });
    await expectError(plain, 415);
    await expectError(await post(`/api/sessions/${id}/input`, { value: "no request id" }), 400);
    // An input request that does not exist: the canonical not_found, as 404.
    await expectError(await post(`/api/sessions/${id}/input`, { request_id: "nope", value: "x" }), 404);
    for (const body of [
      { workspace: "../etc" },
      { workspace: "main", thinking: "maximal" },
      { workspace: "main", model: "" },
      { workspace: "main", cwd: "/" },
      {},
    ]) {
      await expectError(await post("/api/sessions", body), 400);
    }
    await expectError(await post("/api/sessions", { workspace: "no-such-workspace" }), 404);
    await expectError(await post("/api/sessions/bad%20id!/prompt", { message: "hi" }), 400);
    await expectError(await fetch(`${stack.baseUrl}/api/sessions/bad%20id!/events`, { headers: auth }), 400);
    // Nothing broke: the session still takes a turn.
    const stream = await events(id);
    await stack.fakeLlm.script([{ text: "fine" }]);
    await send(id, "still fine?");
    await stream.event("agent.idle", 60_000);
    expect(text(stream)).toBe("fine");
    stream.close();
  });
});
