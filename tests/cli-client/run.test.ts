/**
 * `oqto run` against a running server (issue 16, point 3): the real CLI process -> oqto serve ->
 * runner -> pi -> fake LLM, with a personal API key in OQTO_URL / OQTO_TOKEN as a script has it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { AgentEvent } from "../../src/protocol/index.ts";
import { type Stack, startStack } from "../helpers/stack.ts";
import { until } from "../helpers/wait.ts";
import { type ClientHome, clientHome, collect } from "./cli-client-env.ts";
import { startCuttingProxy } from "./cutting-proxy.ts";

let stack: Stack;
let client: ClientHome;
let keyEnv: Record<string, string>;

async function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${stack.baseUrl}${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${keyEnv.OQTO_TOKEN}`,
      "content-type": "application/json",
      ...init.headers,
    },
  });
}

function sessionIdIn(stderr: string): string {
  const id = /session (oqto-\S+) in /.exec(stderr)?.[1];
  if (!id) throw new Error(`no session id on stderr: ${stderr}`);
  return id;
}

const run = (args: string[], options: { env?: Record<string, string>; stdin?: string } = {}) =>
  client.oqto(["run", ...args], { ...options, env: { ...keyEnv, ...options.env } });

beforeAll(async () => {
  stack = await startStack();
  client = clientHome();
  const auth = { authorization: `Bearer ${stack.admin.token}`, "content-type": "application/json" };
  const ws = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ name: "main" }),
  });
  expect(ws.status).toBe(201);
  const key = await fetch(`${stack.baseUrl}/api/keys`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ name: "cli-client-tests" }),
  });
  expect(key.status).toBe(201);
  keyEnv = { OQTO_URL: stack.baseUrl, OQTO_TOKEN: ((await key.json()) as { key: string }).key };
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  if (client) rmSync(client.home, { recursive: true, force: true });
}, 15_000);

describe("oqto run", () => {
  test("streams the answer to stdout and exits 0; the session is named on stderr", async () => {
    stack.fakeLlm.script([{ text: ["Hel", "lo ", "from ", "the ", "CLI"] }]);
    const { code, stdout, stderr } = await run(["-w", "main", "say", "hello"]);
    expect(stderr).toContain("oqto run: session oqto-");
    expect({ code, stdout }).toEqual({ code: 0, stdout: "Hello from the CLI\n" });
    const sent = JSON.stringify(stack.fakeLlm.requests().at(-1));
    expect(sent).toContain("say hello");
  });

  test("tool calls and their results go to stderr, one line each; the answer stays on stdout", async () => {
    stack.fakeLlm.script([
      { toolCalls: [{ name: "bash", arguments: { command: "echo tool-output-42" } }] },
      { text: "The command printed it." },
    ]);
    const { code, stdout, stderr } = await run(["-w", "main", "run a command"]);
    expect(code).toBe(0);
    expect(stdout).toBe("The command printed it.\n");
    expect(stderr).toContain("[tool] bash echo tool-output-42");
    expect(stderr).toMatch(/\[tool\] bash done \(\d+ ms\)/);
    expect(stdout).not.toContain("tool-output-42");
  });

  test("--json prints the canonical events, one valid JSON line each, ending with agent.idle", async () => {
    stack.fakeLlm.script([{ text: ["js", "on"] }]);
    const { code, stdout } = await run(["-w", "main", "--json", "events please"]);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n");
    const events = lines.map((line) => AgentEvent.parse(JSON.parse(line)) as AgentEvent);
    expect(events.at(-1)?.event).toBe("agent.idle");
    const deltas = events.flatMap((e) => (e.event === "stream.text_delta" ? [e.delta] : []));
    expect(deltas.join("")).toBe("json");
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
    // Only events of this turn: the stream was followed from the new session's creation on.
    expect(events.some((e) => e.event === "session.created")).toBe(false);
  });

  test("reads the prompt from stdin with -", async () => {
    stack.fakeLlm.script([{ text: "got it" }]);
    const prompt = "a prompt\nover two lines from stdin";
    const { code, stdout } = await run(["-w", "main", "-"], { stdin: prompt });
    expect({ code, stdout }).toEqual({ code: 0, stdout: "got it\n" });
    expect(JSON.stringify(stack.fakeLlm.requests().at(-1))).toContain(JSON.stringify(prompt).slice(1, -1));
  });

  test("--session continues a session: the model sees the earlier turn", async () => {
    stack.fakeLlm.script([{ text: "first answer" }]);
    const first = await run(["-w", "main", "remember the word tangerine"]);
    expect(first.code).toBe(0);
    const id = sessionIdIn(first.stderr);
    stack.fakeLlm.script([{ text: "second answer" }]);
    const second = await run(["--session", id, "which word?"]);
    expect({ code: second.code, stdout: second.stdout }).toEqual({ code: 0, stdout: "second answer\n" });
    const sent = JSON.stringify(stack.fakeLlm.requests().at(-1));
    expect(sent).toContain("remember the word tangerine");
    expect(sent).toContain("which word?");
  });

  test("-m picks the model of a new session", async () => {
    stack.fakeLlm.script([{ text: "from model two" }]);
    const { code } = await run(["-w", "main", "-m", "fake/fake-model-2", "hi"]);
    expect(code).toBe(0);
    expect(JSON.stringify(stack.fakeLlm.requests().at(-1))).toContain('"model":"fake-model-2"');
  });
});

describe("exit codes", () => {
  test("a failed turn (the LLM refuses the request) exits 1 with the error", async () => {
    // A 400 is not retried (pi retries 5xx and rate limits).
    stack.fakeLlm.script([{ status: 400, errorBody: { error: { message: "the model refused this" } } }]);
    const { code, stdout, stderr } = await run(["-w", "main", "fail please"]);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toContain("[error] 400 the model refused this");
    expect(stderr.trim().split("\n").at(-1)).toBe("oqto run: the turn failed: 400 the model refused this");
    expect(stderr).not.toContain("    at ");
  });

  test("an error that pi retries successfully is no failure: exit 0", async () => {
    stack.fakeLlm.script([
      { status: 500, errorBody: { error: { message: "upstream exploded" } } },
      { text: "second time lucky" },
    ]);
    const { code, stdout, stderr } = await run(["-w", "main", "flaky"]);
    expect({ code, stdout }).toEqual({ code: 0, stdout: "second time lucky\n" });
    expect(stderr).toContain("[retry] attempt 1/");
  }, 30_000);

  test("a bad token exits 3 and says to log in", async () => {
    const { code, stdout, stderr } = await run(["-w", "main", "hi"], {
      env: { OQTO_TOKEN: "oqto_not-a-real-key" },
    });
    expect({ code, stdout }).toEqual({ code: 3, stdout: "" });
    expect(stderr.trim()).toBe("oqto run: the server rejected the token (401): run oqto login");
  });

  test("an unreachable server exits 4 with one line naming it", async () => {
    const { code, stderr } = await run(["-w", "main", "hi"], { env: { OQTO_URL: "http://127.0.0.1:1" } });
    expect(code).toBe(4);
    expect(stderr.trim()).toBe("oqto run: cannot reach http://127.0.0.1:1: connection refused");
  });

  test("no credentials at all exit 3; usage errors exit 2", async () => {
    const none = await client.oqto(["run", "-w", "main", "hi"]);
    expect(none.code).toBe(3);
    expect(none.stderr).toContain("not logged in: run oqto login --server URL");
    const noPrompt = await run(["-w", "main"]);
    expect(noPrompt.code).toBe(2);
    expect(noPrompt.stderr).toContain("no prompt given");
    const bogus = await run(["--bogus", "hi"]);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr.trim().split("\n")).toHaveLength(1);
    const mixed = await run(["--session", "oqto-x", "-m", "fake/fake-model", "hi"]);
    expect(mixed.code).toBe(2);
  });

  test("an unknown workspace or session exits 1 with the server's reason", async () => {
    const ws = await run(["-w", "no-such-workspace", "hi"]);
    expect(ws.code).toBe(1);
    expect(ws.stderr).toContain("(404 NOT_FOUND)");
    const session = await run(["--session", "oqto-does-not-exist", "hi"]);
    expect(session.code).toBe(1);
    expect(session.stderr).toContain("404");
  });

  test("--help on run prints the usage with the exit codes, exit 0", async () => {
    const { code, stdout } = await client.oqto(["run", "--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain("usage: oqto run");
    expect(stdout).toContain("130 aborted with Ctrl-C");
  });
});

describe("Ctrl-C", () => {
  test("SIGINT aborts the turn on the server and exits 130", async () => {
    stack.fakeLlm.script([{ text: Array.from({ length: 300 }, (_, i) => `w${i} `), delayMs: 30 }]);
    const proc = client.spawn(["run", "-w", "main", "talk for a long time"], keyEnv);
    const stdout = collect(proc.stdout);
    const stderr = collect(proc.stderr);
    await until(
      "the answer to start streaming",
      () => (stdout.text().includes("w3 ") ? true : undefined),
      60_000,
    );
    const sessionId = sessionIdIn(stderr.text());
    proc.kill("SIGINT");
    const code = await proc.exited;
    await Promise.all([stdout.done, stderr.done]);
    expect(code).toBe(130);
    expect(stderr.text()).toContain("aborting the turn");
    expect(stdout.text().split(" ").length).toBeLessThan(300);
    // The server ended the turn: the last message is the aborted answer, and the session is idle.
    const messages = (await (await api(`/api/sessions/${sessionId}/messages`)).json()) as {
      messages: Array<{ role: string; stop_reason?: string }>;
    };
    expect(messages.messages.at(-1)).toMatchObject({ role: "assistant", stop_reason: "aborted" });
    const summary = (await (await api(`/api/sessions/${sessionId}`)).json()) as { live?: { state: string } };
    expect(summary.live?.state).toBe("idle");
  }, 90_000);
});

describe("a dropped connection", () => {
  test("the event stream resumes with Last-Event-ID: every event once, in order, and exit 0", async () => {
    const proxy = startCuttingProxy(Number(new URL(stack.baseUrl).port));
    try {
      const words = Array.from({ length: 60 }, (_, i) => `r${i} `);
      stack.fakeLlm.script([{ text: words, delayMs: 40 }]);
      const proc = client.spawn(["run", "-w", "main", "--json", "stream through a flaky network"], {
        ...keyEnv,
        OQTO_URL: proxy.url,
      });
      const stdout = collect(proc.stdout);
      const stderr = collect(proc.stderr);
      await until("some deltas", () => (stdout.text().includes('"delta":"r5 "') ? true : undefined), 60_000);
      const before = proxy.connections();
      proxy.cut();
      const code = await proc.exited;
      await Promise.all([stdout.done, stderr.done]);
      expect(stderr.text()).toContain("the event stream dropped");
      expect(proxy.connections()).toBeGreaterThan(before);
      expect(code).toBe(0);
      const events = stdout
        .text()
        .trimEnd()
        .split("\n")
        .map((line) => AgentEvent.parse(JSON.parse(line)) as AgentEvent);
      // No seq twice and none missing (a coalesced delta stands for seq_from..seq).
      let expected = events[0]?.seq ?? 0;
      for (const event of events) {
        expect(event.seq_from ?? event.seq).toBe(expected);
        expected = event.seq + 1;
      }
      const text = events.flatMap((e) => (e.event === "stream.text_delta" ? [e.delta] : [])).join("");
      expect(text).toBe(words.join(""));
    } finally {
      proxy.stop();
    }
  }, 90_000);
});
