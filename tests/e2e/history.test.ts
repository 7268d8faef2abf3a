/**
 * History through the whole product: browser WebSocket / REST -> oqto serve -> oqto runner -> pi ->
 * fake LLM, with every turn persisted in the embedded `oqto hstry` over gRPC before agent.idle.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import type { Message } from "../../src/protocol/message.ts";
import { type Frame, MuxClient, newSessionId } from "../helpers/mux-client.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

const SLOW = 120_000;
let stack: Stack;
let client: MuxClient;
let workspace: string;

interface Summary {
  session_id: string;
  pi_session_id: string;
  title?: string;
  workspace_path: string;
  message_count: number;
  version: number;
  parent_session_id?: string;
  fork_type?: string;
  live?: { state: string; seq: number };
}
interface MessagesBody {
  session_id: string;
  messages: Message[];
  version: number;
  message_count: number;
}

async function api(
  method: string,
  path: string,
  body?: unknown,
  token = stack.admin.token,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${stack.baseUrl}/api${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function createSession(mux = client): Promise<string> {
  const sessionId = newSessionId();
  const res = await mux.command(sessionId, "session.create", { config: { harness: "pi", cwd: workspace } });
  expect(res.success).toBe(true);
  return sessionId;
}

/** Sends a prompt; resolves with the session's frames from the prompt up to its agent.idle. */
async function runTurn(sessionId: string, message: string, mux = client): Promise<Frame[]> {
  const from = mux.frames.length;
  const idle = mux.event(sessionId, "agent.idle", from, 60_000);
  const res = await mux.command(sessionId, "prompt", { message });
  expect(res.success).toBe(true);
  const end = await idle;
  return mux.frames.slice(from, mux.frames.indexOf(end) + 1).filter((f) => f.session_id === sessionId);
}

function streamedMessages(frames: Frame[]): Message[] {
  return frames.filter((f) => f.event === "stream.message_end").map((f) => f.message as Message);
}

function versionOf(frames: Frame[]): { version: number; message_count: number } {
  const idle = frames.filter((f) => f.event === "agent.idle").at(-1);
  return idle?.message_version as { version: number; message_count: number };
}

async function restMessages(sessionId: string, query = ""): Promise<MessagesBody> {
  const res = await api("GET", `/sessions/${sessionId}/messages${query}`);
  expect(res.status).toBe(200);
  return res.json as unknown as MessagesBody;
}

/** What a reload must show: same ids, order, roles and content as the stream (tool status aside). */
function shape(messages: Message[]) {
  return messages.map((m) => ({
    id: m.id,
    idx: m.idx,
    role: m.role,
    client_id: m.client_id,
    text: m.parts.map((p) => ("text" in p ? p.text : p.type === "tool_result" ? p.output : p.type)),
  }));
}

function runnerPid(): number {
  const pid = readdirSync("/proc").find((entry) => {
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      return cmd.includes("runner\0") && cmd.includes(stack.runnerDataDir);
    } catch {
      return false;
    }
  });
  return Number(pid);
}

beforeAll(async () => {
  stack = await startStack();
  const res = await api("POST", "/workspaces", { name: "main" });
  expect(res.status).toBe(201);
  workspace = res.json.path as string;
  client = await MuxClient.connect(stack.wsUrl, stack.admin.token);
}, 60_000);

afterAll(async () => {
  client?.close();
  await stack?.stop();
});

/** Sessions shared by later tests (search, restart, rename, delete). */
const sessions: { chat?: string; killed?: string } = {};

describe("reload shows exactly what was streamed", () => {
  test(
    "after prompts with text and tool calls, REST messages equal the streamed messages; idle carries the version",
    async () => {
      const sessionId = await createSession();
      sessions.chat = sessionId;
      const frames: Frame[] = [];
      await stack.fakeLlm.script([{ text: ["The xylophone ", "is a percussion instrument."] }]);
      frames.push(...(await runTurn(sessionId, "tell me about the xylophone")));
      await stack.fakeLlm.script([
        { toolCalls: [{ name: "write", arguments: { path: "notes.txt", content: "some notes\n" } }] },
        { toolCalls: [{ name: "bash", arguments: { command: "cat notes.txt" } }] },
        { text: "Both tools ran." },
      ]);
      frames.push(...(await runTurn(sessionId, "write notes.txt and show it")));
      await stack.fakeLlm.script([{ text: "third answer" }]);
      const from = client.frames.length;
      const idle = client.event(sessionId, "agent.idle", from, 60_000);
      expect(
        (await client.command(sessionId, "prompt", { message: "third", client_id: "c-3" })).success,
      ).toBe(true);
      await idle;
      frames.push(...client.frames.slice(from).filter((f) => f.session_id === sessionId));

      const streamed = streamedMessages(frames);
      expect(streamed.map((m) => m.role)).toEqual([
        "user",
        "assistant",
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
        "assistant",
        "user",
        "assistant",
      ]);
      const body = await restMessages(sessionId);
      expect(body.session_id).toBe(sessionId);
      expect(shape(body.messages)).toEqual(shape(streamed));
      expect(new Set(body.messages.map((m) => m.id)).size).toBe(body.messages.length);
      expect(body.messages.map((m) => m.idx)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(body.messages[8]?.client_id).toBe("c-3");
      // Persisted tool calls carry the status of their results.
      const calls = body.messages.flatMap((m) => m.parts).filter((p) => p.type === "tool_call");
      expect(calls.map((p) => (p as { status?: string }).status)).toEqual(["success", "success"]);
      expect(versionOf(frames)).toEqual({ version: body.version, message_count: body.message_count });
      expect(body.message_count).toBe(10);

      const tail = await restMessages(sessionId, "?limit=3");
      expect(tail.messages.map((m) => m.idx)).toEqual([7, 8, 9]);
      expect(tail.message_count).toBe(10);
    },
    SLOW,
  );

  test(
    "kill -9 of the runner right after agent.idle loses nothing; the conversation continues after it",
    async () => {
      const sessionId = await createSession();
      sessions.killed = sessionId;
      await stack.fakeLlm.script([{ text: "a first answer" }]);
      const first = await runTurn(sessionId, "first question");
      const pid = runnerPid();
      expect(pid).toBeGreaterThan(0);

      await stack.fakeLlm.script([
        { toolCalls: [{ name: "bash", arguments: { command: "echo kiwi" } }] },
        { text: "the last words before the crash" },
      ]);
      const from = client.frames.length;
      // Killed in the same tick the idle frame arrives: nothing after agent.idle may be needed.
      const killed = client
        .waitFor((f) => f.session_id === sessionId && f.event === "agent.idle", 60_000, from)
        .then((idle) => {
          process.kill(pid, "SIGKILL");
          return idle;
        });
      expect((await client.command(sessionId, "prompt", { message: "one more" })).success).toBe(true);
      const idle = await killed;
      const second = client.frames.slice(from, client.frames.indexOf(idle) + 1);
      await client.waitFor((f) => f.type === "runner_status" && f.state === "connected", 30_000, from);

      const streamed = streamedMessages([...first, ...second].filter((f) => f.session_id === sessionId));
      const body = await restMessages(sessionId);
      expect(shape(body.messages)).toEqual(shape(streamed));
      expect(body.message_count).toBe(6);
      expect((idle.message_version as { message_count: number }).message_count).toBe(6);

      await stack.fakeLlm.script([{ text: "after the crash" }], true);
      const third = await runTurn(sessionId, "still there?");
      expect(versionOf(third).message_count).toBe(8);
      const after = await restMessages(sessionId);
      expect(after.messages.map((m) => m.id)).toEqual(
        [0, 1, 2, 3, 4, 5, 6, 7].map((idx) => `${sessionId}#${idx}`),
      );
    },
    SLOW,
  );
});

describe("session list, search, rename, delete, fork", () => {
  test(
    "the session list and messages are intact after serve restarts",
    async () => {
      const chat = sessions.chat as string;
      const before = await api("GET", "/sessions");
      expect(before.status).toBe(200);
      const listed = before.json.sessions as Summary[];
      const entry = listed.find((s) => s.session_id === chat);
      expect(entry).toMatchObject({
        title: "tell me about the xylophone",
        workspace_path: workspace,
        message_count: 10,
      });
      // The runner was restarted since the chat session ran; the other one was resumed after that.
      expect(entry?.live).toBeUndefined();
      expect(listed.find((s) => s.session_id === sessions.killed)?.live?.state).toBe("idle");
      const inWorkspace = await api("GET", "/sessions?workspace=main");
      expect((inWorkspace.json.sessions as Summary[]).map((s) => s.session_id)).toContain(chat);
      const elsewhere = await api("GET", "/sessions?workspace=other");
      expect(elsewhere.json.sessions).toEqual([]);
      const messagesBefore = await restMessages(chat);

      await stack.restartServe();
      client.close();
      client = await MuxClient.connect(stack.wsUrl, stack.admin.token);

      const after = await api("GET", "/sessions");
      expect(after.status).toBe(200);
      const again = (after.json.sessions as Summary[]).map(({ live: _live, ...rest }) => rest);
      expect(again).toEqual(listed.map(({ live: _live, ...rest }) => rest));
      expect(await restMessages(chat)).toEqual(messagesBefore);
      const single = await api("GET", `/sessions/${chat}`);
      expect(single.json).toMatchObject({
        session_id: chat,
        message_count: 10,
        version: messagesBefore.version,
      });
    },
    SLOW,
  );

  test("search finds a word of an old message and names its session and message", async () => {
    const chat = sessions.chat as string;
    const res = await api("GET", "/sessions/search?q=xylophone");
    expect(res.status).toBe(200);
    const hits = res.json.hits as Array<{
      session_id: string;
      message_id: string;
      idx: number;
      role: string;
    }>;
    expect(hits.length).toBeGreaterThan(0);
    for (const hit of hits) {
      expect(hit.session_id).toBe(chat);
      expect(hit.message_id).toBe(`${chat}#${hit.idx}`);
    }
    expect(hits.map((h) => h.idx).sort()).toEqual([0, 1]);
    const code = await api("GET", "/sessions/search?q=notes.txt&mode=code&workspace=main");
    expect((code.json.hits as Array<{ session_id: string }>).some((h) => h.session_id === chat)).toBe(true);
    const none = await api("GET", "/sessions/search?q=zzzunknownword");
    expect(none.json.hits).toEqual([]);
  });

  test(
    "rename via PATCH shows in GET and reaches a subscribed client; DELETE removes the session",
    async () => {
      const sessionId = sessions.killed as string;
      // Resumed (serve restarted since), so that the rename reaches a live session and its subscriber.
      const resumed = await client.command(sessionId, "session.create", {
        config: { harness: "pi", cwd: workspace },
      });
      expect(resumed.success).toBe(true);
      const from = client.frames.length;
      const renamed = await api("PATCH", `/sessions/${sessionId}`, { title: "Renamed by REST" });
      expect(renamed.status).toBe(200);
      expect(renamed.json).toMatchObject({ session_id: sessionId, title: "Renamed by REST" });
      expect((await api("GET", `/sessions/${sessionId}`)).json.title).toBe("Renamed by REST");
      const changed = await client.event(sessionId, "session.title_changed", from, 10_000);
      expect(changed.title).toBe("Renamed by REST");

      const deleted = await api("DELETE", `/sessions/${sessionId}`);
      expect(deleted.status).toBe(204);
      expect((await api("GET", `/sessions/${sessionId}`)).status).toBe(404);
      expect((await api("GET", `/sessions/${sessionId}/messages`)).status).toBe(404);
      expect((await api("DELETE", `/sessions/${sessionId}`)).status).toBe(404);
      const list = (await api("GET", "/sessions")).json.sessions as Summary[];
      expect(list.some((s) => s.session_id === sessionId)).toBe(false);
      const search = await api("GET", "/sessions/search?q=kiwi");
      expect(search.json.hits).toEqual([]);
    },
    SLOW,
  );

  test(
    "fork creates a new session with the parent's messages before the forked one and its lineage",
    async () => {
      const parent = await createSession();
      await stack.fakeLlm.script([{ text: "answer one" }, { text: "answer two" }]);
      await runTurn(parent, "question one");
      await runTurn(parent, "question two");
      const points = await client.command(parent, "get_fork_points");
      const entries = points.data as Array<{ entry_id: string; preview: string }>;
      expect(entries.map((e) => e.preview)).toEqual(["question one", "question two"]);
      const fork = await client.command(parent, "fork", { entry_id: entries[1]?.entry_id });
      expect(fork.success).toBe(true);
      const child = (fork.data as { new_session_id: string }).new_session_id;
      expect(child).not.toBe(parent);

      const summary = await api("GET", `/sessions/${child}`);
      expect(summary.status).toBe(200);
      expect(summary.json).toMatchObject({
        session_id: child,
        parent_session_id: parent,
        fork_type: "fork",
        message_count: 2,
      });
      const inherited = await restMessages(child);
      expect(inherited.messages.map((m) => m.id)).toEqual([`${child}#0`, `${child}#1`]);
      const parentMessages = await restMessages(parent);
      expect(inherited.messages.map((m) => m.parts)).toEqual(
        parentMessages.messages
          .slice(0, 2)
          .map((m) => m.parts.map((p) => ({ ...p, id: p.id.replace(parent, child) }))),
      );
      expect(parentMessages.message_count).toBe(4);

      await stack.fakeLlm.script([{ text: "a forked answer" }]);
      const frames = await runTurn(child, "question three");
      expect(streamedMessages(frames).map((m) => m.id)).toEqual([`${child}#2`, `${child}#3`]);
      expect(versionOf(frames).message_count).toBe(4);
    },
    SLOW,
  );
});

describe("bad input and other users", () => {
  test("bad ids, pages, modes and queries are 400; unknown sessions 404", async () => {
    for (const path of [
      "/sessions/bad%20id",
      "/sessions/bad%20id/messages",
      "/sessions?limit=0",
      "/sessions?limit=501",
      "/sessions?limit=ten",
      "/sessions?offset=-1",
      "/sessions?surprise=1",
      "/sessions/search",
      "/sessions/search?q=",
      "/sessions/search?q=%20%20",
      "/sessions/search?q=x&mode=fuzzy",
      "/sessions/search?q=x&limit=201",
      `/sessions/${sessions.chat}/messages?limit=0`,
      `/sessions/${sessions.chat}/messages?limit=x`,
    ]) {
      const res = await api("GET", path);
      expect({ path, status: res.status, code: res.json.code }).toEqual({
        path,
        status: 400,
        code: "BAD_REQUEST",
      });
    }
    expect((await api("PATCH", `/sessions/${sessions.chat}`, { title: "  " })).status).toBe(400);
    expect((await api("PATCH", `/sessions/${sessions.chat}`, { name: "x" })).status).toBe(400);
    expect((await api("PATCH", "/sessions/bad!id", { title: "x" })).status).toBe(400);
    expect((await api("DELETE", "/sessions/bad%20id")).status).toBe(400);
    const unknown = newSessionId();
    expect((await api("GET", `/sessions/${unknown}`)).status).toBe(404);
    expect((await api("GET", `/sessions/${unknown}/messages`)).status).toBe(404);
    expect((await api("PATCH", `/sessions/${unknown}`, { title: "x" })).status).toBe(404);
  });

  test("another user's session id is 404 everywhere and never shows in their list or search", async () => {
    const token = await stack.addUser("mallory", "mallory-password");
    const victim = sessions.chat as string;
    expect((await api("GET", `/sessions/${victim}`, undefined, token)).status).toBe(404);
    expect((await api("GET", `/sessions/${victim}/messages`, undefined, token)).status).toBe(404);
    expect((await api("PATCH", `/sessions/${victim}`, { title: "mine now" }, token)).status).toBe(404);
    expect((await api("DELETE", `/sessions/${victim}`, undefined, token)).status).toBe(404);
    expect((await api("GET", "/sessions", undefined, token)).json.sessions).toEqual([]);
    expect((await api("GET", "/sessions/search?q=xylophone", undefined, token)).json.hits).toEqual([]);
    // The victim's session is untouched.
    expect((await api("GET", `/sessions/${victim}`)).json).toMatchObject({
      title: "tell me about the xylophone",
      message_count: 10,
    });

    const mux = await MuxClient.connect(stack.wsUrl, token);
    mux.send(JSON.stringify({ channel: "history", id: "m1", type: "messages", session_id: victim }));
    const refused = await mux.waitFor((f) => f.channel === "history" && f.id === "m1");
    expect(refused).toMatchObject({ type: "error", code: "session_not_found" });
    mux.send(JSON.stringify({ channel: "history", id: "m2", type: "get", session_id: victim }));
    expect(await mux.waitFor((f) => f.channel === "history" && f.id === "m2")).toMatchObject({
      type: "get_result",
      session: null,
    });
    mux.close();
  });

  test("the mux history channel lists, gets, reads and searches", async () => {
    const chat = sessions.chat as string;
    const request = async (frame: Record<string, unknown>) => {
      const id = `h${Math.random()}`;
      client.send(JSON.stringify({ channel: "history", id, ...frame }));
      return client.waitFor((f) => f.channel === "history" && f.id === id, 15_000);
    };
    const list = await request({ type: "list", limit: 50 });
    expect(list.type).toBe("list_result");
    expect((list.sessions as Summary[]).some((s) => s.session_id === chat)).toBe(true);
    const get = await request({ type: "get", session_id: chat });
    expect(get).toMatchObject({ type: "get_result", session: { session_id: chat, message_count: 10 } });
    const messages = await request({ type: "messages", session_id: chat, limit: 2 });
    expect(messages).toMatchObject({ type: "messages_result", session_id: chat, message_count: 10 });
    expect((messages.messages as Message[]).map((m) => m.id)).toEqual([`${chat}#8`, `${chat}#9`]);
    const search = await request({ type: "search", query: "percussion" });
    expect(search.type).toBe("search_result");
    expect((search.hits as Array<{ message_id: string }>).map((h) => h.message_id)).toEqual([`${chat}#1`]);
    const bad = await request({ type: "search", query: "" });
    expect(bad).toMatchObject({ type: "error", code: "invalid_request" });
    const badMode = await request({ type: "list", limit: 0 });
    expect(badMode).toMatchObject({ type: "error", code: "invalid_request" });
  });
});
