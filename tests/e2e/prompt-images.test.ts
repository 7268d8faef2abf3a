/**
 * Images in prompts and pi's commands through the whole product: mux / REST -> oqto serve -> runner ->
 * pi -> fake LLM, the user message's image parts in the stream and in history, and the bounds every
 * boundary enforces (types, magic bytes, sizes).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Message } from "../../src/protocol/message.ts";
import { type Frame, MuxClient, newSessionId } from "../helpers/mux-client.ts";
import { addPromptTemplateAndSkill } from "../helpers/pi-command-fixtures.ts";
import { solidPng } from "../helpers/png.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

let stack: Stack;
let client: MuxClient;
let workspace: string;

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.baseUrl}/api${path}`, {
    method,
    headers: {
      authorization: `Bearer ${stack.admin.token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function createSession(): Promise<string> {
  const sessionId = newSessionId();
  const res = await client.command(sessionId, "session.create", {
    config: { harness: "pi", cwd: workspace },
  });
  expect(res.success).toBe(true);
  return sessionId;
}

function userImages(message: Message) {
  return message.parts.flatMap((p) => (p.type === "image" && p.source === "base64" ? [p] : []));
}

beforeAll(async () => {
  // Prompt templates, skills and extensions are discovered (the default test flags turn them off).
  // A short start timeout: a command that starts no run must not be taken for a run that failed to start.
  stack = await startStack({
    piExtraArgs: ["--no-context-files", "--no-themes"],
    runnerConfig: "start_timeout_s = 2",
  });
  // The fake model takes images: without "image" in its input pi replaces them with a placeholder.
  const provider = await api("PUT", "/admin/providers/fake", {
    name: "fake",
    api: "openai-completions",
    base_url: stack.fakeLlm.url,
    models: [{ id: "fake-model", input: ["text", "image"] }, "fake-model-2"],
  });
  expect(provider.status).toBe(200);
  const created = await api("POST", "/workspaces", { name: "pictures" });
  expect(created.status).toBe(201);
  workspace = created.json.path as string;
  addPromptTemplateAndSkill(workspace);
  mkdirSync(join(workspace, ".pi/extensions"), { recursive: true });
  writeFileSync(
    join(workspace, ".pi/extensions/greeter.ts"),
    `export default function (pi) {
  pi.registerCommand("greet", {
    description: "Greet someone",
    handler: async (args, ctx) => ctx.ui.notify("hello " + args, "info"),
  });
}
`,
  );
  stack.own(join(workspace, ".pi"));
  client = await MuxClient.connect(stack.wsUrl, stack.admin.token);
}, 90_000);

afterAll(async () => {
  client?.close();
  await stack?.stop();
});

describe("images in prompts", () => {
  test("a PNG reaches the LLM as an image part, streams back in the user message and stays in history", async () => {
    const sessionId = await createSession();
    const png = solidPng(4, 3, [200, 30, 90]).toString("base64");
    stack.fakeLlm.reset();
    stack.fakeLlm.script([{ text: "A magenta rectangle." }]);
    const from = client.frames.length;
    const idle = client.event(sessionId, "agent.idle", from, 60_000);
    const res = await client.command(sessionId, "prompt", {
      message: "what is in this picture?",
      images: [{ data: png, media_type: "image/png" }],
    });
    expect(res.success).toBe(true);
    await idle;

    expect(stack.fakeLlm.images()).toEqual([{ mimeType: "image/png", data: png }]);
    const streamed = client.frames
      .slice(from)
      .filter((f: Frame) => f.session_id === sessionId && f.event === "stream.message_end")
      .map((f) => f.message as Message);
    const user = streamed.find((m) => m.role === "user");
    expect(user && userImages(user).map((p) => [p.mimeType, p.data])).toEqual([["image/png", png]]);

    const history = await api("GET", `/sessions/${sessionId}/messages`);
    expect(history.status).toBe(200);
    const stored = (history.json.messages as Message[]).find((m) => m.role === "user");
    expect(stored?.parts.find((p) => p.type === "text")).toMatchObject({ text: "what is in this picture?" });
    expect(stored && userImages(stored).map((p) => [p.mimeType, p.data])).toEqual([["image/png", png]]);
  }, 120_000);

  test("the REST prompt route takes images too, beyond the 1 MiB JSON limit of other routes", async () => {
    const sessionId = await createSession();
    // ~1.5 MiB of incompressible pixels: its base64 alone is over 1 MiB.
    const png = solidPng(700, 750, [0, 0, 0], true).toString("base64");
    expect(png.length).toBeGreaterThan(1024 * 1024);
    stack.fakeLlm.reset();
    stack.fakeLlm.script([{ text: "Noise." }]);
    const from = client.frames.length;
    const idle = client.event(sessionId, "agent.idle", from, 60_000);
    const sent = await api("POST", `/sessions/${sessionId}/prompt`, {
      message: "describe the noise",
      images: [{ data: png, media_type: "image/png" }],
    });
    expect(sent.status).toBe(202);
    await idle;
    expect(stack.fakeLlm.images().map((i) => i.data.length)).toEqual([png.length]);
  }, 120_000);

  test("images that are not what they claim, of other types or too large are refused before pi sees them", async () => {
    const sessionId = await createSession();
    const png = solidPng(2, 2, [1, 2, 3]).toString("base64");
    const big = Buffer.alloc(5 * 1024 * 1024 + 1);
    solidPng(1, 1, [0, 0, 0]).copy(big);
    const cases: Array<{ images: unknown; field: string }> = [
      { images: [{ data: png, media_type: "image/jpeg" }], field: "media_type" },
      {
        images: [{ data: Buffer.from("<svg/>").toString("base64"), media_type: "image/svg+xml" }],
        field: "media_type",
      },
      { images: [{ data: "not base64!", media_type: "image/png" }], field: "data" },
      { images: [{ data: big.toString("base64"), media_type: "image/png" }], field: "data" },
      { images: Array.from({ length: 17 }, () => ({ data: png, media_type: "image/png" })), field: "images" },
    ];
    stack.fakeLlm.reset();
    for (const { images, field } of cases) {
      const res = await client.command(sessionId, "prompt", { message: "look", images });
      expect(res.success).toBe(false);
      expect(res.error_code).toBe("invalid_request");
      expect(String(res.error)).toContain(field);
      const rest = await api("POST", `/sessions/${sessionId}/prompt`, { message: "look", images });
      expect(rest.status).toBe(400);
      expect(rest.json.code).toBe("BAD_REQUEST");
    }
    // Two images of 4.5 MiB each are each allowed, together over the 8 MiB of one prompt.
    const large = Buffer.alloc(4.5 * 1024 * 1024);
    solidPng(1, 1, [0, 0, 0]).copy(large);
    const pair = [0, 1].map(() => ({ data: large.toString("base64"), media_type: "image/png" }));
    const res = await client.command(sessionId, "prompt", { message: "look", images: pair });
    expect(res.success).toBe(false);
    expect(String(res.error)).toContain("together");
    expect(stack.fakeLlm.requests()).toEqual([]);
  }, 120_000);
});

describe("conversations with many images", () => {
  test("past 11 MiB of images a reply leaves the oldest out: the session still opens, the runner stays connected", async () => {
    const sessionId = await createSession();
    // 3 MiB each (PNG header, then zeros): two prompts of two images hold 16 MiB of base64, over one frame.
    const image = (shade: number) => {
      const bytes = Buffer.alloc(3 * 1024 * 1024, shade);
      solidPng(1, 1, [shade, shade, shade]).copy(bytes);
      return { data: bytes.toString("base64"), media_type: "image/png" };
    };
    const prompts = [
      { message: "first pair", images: [image(1), image(2)] },
      { message: "second pair", images: [image(3), image(4)] },
    ];
    for (const prompt of prompts) {
      stack.fakeLlm.script([{ text: `seen ${prompt.message}` }]);
      const idle = client.event(sessionId, "agent.idle", client.frames.length, 60_000);
      expect((await client.command(sessionId, "prompt", prompt)).success).toBe(true);
      await idle;
    }

    const reply = await client.command(sessionId, "get_messages");
    expect(reply.success).toBe(true);
    const users = (reply.data as { messages: Message[] }).messages.filter((m) => m.role === "user");
    const sources = users.map((m) => m.parts.flatMap((p) => (p.type === "image" ? [p.source] : [])));
    expect(sources).toEqual([
      ["omitted", "omitted"],
      ["base64", "base64"],
    ]);
    expect(users[0]?.parts.find((p) => p.type === "image")).toMatchObject({
      mimeType: "image/png",
      size: 3 * 1024 * 1024,
    });
    expect(users[1] && userImages(users[1]).map((p) => p.data)).toEqual(
      prompts[1]?.images.map((i) => i.data),
    );
    // REST reads history through the same budget; the runner is still there to answer it.
    const rest = await api("GET", `/sessions/${sessionId}/messages`);
    expect(rest.status).toBe(200);
    const restSources = (rest.json.messages as Message[]).flatMap((m) =>
      m.parts.flatMap((p) => (p.type === "image" ? [p.source] : [])),
    );
    expect(restSources).toEqual(["omitted", "omitted", "base64", "base64"]);
  }, 180_000);
});

describe("pi's commands", () => {
  test("GET /api/sessions/:id/commands lists the workspace's prompt template and skill; a template runs expanded", async () => {
    const sessionId = await createSession();
    const listed = await api("GET", `/sessions/${sessionId}/commands`);
    expect(listed.status).toBe(200);
    const commands = listed.json.commands as Array<{ name: string; type: string; description?: string }>;
    expect(commands).toContainEqual({
      name: "haiku",
      type: "prompt",
      description: "Write a haiku about a topic",
    });
    expect(commands).toContainEqual({
      name: "skill:tidy-notes",
      type: "skill",
      description: "Tidy a notes file",
    });
    expect(commands).toContainEqual({ name: "greet", type: "extension", description: "Greet someone" });

    stack.fakeLlm.reset();
    stack.fakeLlm.script([{ text: "Old pond, a frog." }]);
    const from = client.frames.length;
    const idle = client.event(sessionId, "agent.idle", from, 60_000);
    const res = await client.command(sessionId, "prompt", { message: "/haiku frogs", client_id: "haiku-1" });
    expect(res.success).toBe(true);
    await idle;
    const request = stack.fakeLlm.requests()[0] as { messages: Array<{ role: string; content: unknown }> };
    expect(JSON.stringify(request.messages.at(-1)?.content)).toContain(
      "Write a haiku about frogs, in the style of Basho.",
    );
    // pi expanded the text, yet the user message still carries the client_id it was sent with.
    const user = client.frames
      .slice(from)
      .find((f) => f.event === "stream.message_end" && (f.message as Message).role === "user");
    expect(user?.message).toMatchObject({ role: "user", client_id: "haiku-1" });
  }, 120_000);

  test("an extension command runs in pi without a turn: no watchdog, and the next prompt is served", async () => {
    const sessionId = await createSession();
    stack.fakeLlm.reset();
    const from = client.frames.length;
    const notified = client.waitFor(
      (f) => f.session_id === sessionId && f.event === "notify" && f.message === "hello Ada",
      30_000,
      from,
    );
    const res = await client.command(sessionId, "prompt", { message: "/greet Ada" });
    expect(res.success).toBe(true);
    await notified;
    // Past the 2 s start timeout: a turn waiting for a run would have been ended by the watchdog.
    await Bun.sleep(3_000);
    expect(client.events(sessionId).filter((f) => f.event === "agent.error")).toEqual([]);
    expect(stack.fakeLlm.requests()).toEqual([]);

    stack.fakeLlm.script([{ text: "Hi after the command." }]);
    const idle = client.event(sessionId, "agent.idle", client.frames.length, 60_000);
    expect((await client.command(sessionId, "prompt", { message: "and now?" })).success).toBe(true);
    await idle;
    expect(stack.fakeLlm.requests()).toHaveLength(1);
  }, 120_000);
});
