/**
 * `GET /api/metrics` on a real stack: who may read it (the metrics token, an admin; not a user, not
 * the signed-out), that it is valid Prometheus text, and that its figures move as a session streams
 * through the gateway.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { MuxClient, newSessionId } from "../helpers/mux-client.ts";
import { type ParsedFamily, parsePrometheusText, sampleValue } from "../helpers/prometheus-text.ts";
import { runProcess } from "../helpers/run-process.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

const TOKEN = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
let tokenDir: string;
let stack: Stack;
let userToken: string;

beforeAll(async () => {
  tokenDir = mkdtempSync("/tmp/oqto-metrics-");
  const tokenFile = join(tokenDir, "metrics.token");
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  stack = await startStack({ serverConfig: `metrics_token_file = ${JSON.stringify(tokenFile)}` });
  userToken = await stack.addUser("metricsuser", "a-long-user-password-1");
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(tokenDir, { recursive: true, force: true });
});

const get = (bearer?: string) =>
  fetch(`${stack.baseUrl}/api/metrics`, bearer ? { headers: { authorization: `Bearer ${bearer}` } } : {});

async function scrape(bearer = TOKEN): Promise<Map<string, ParsedFamily>> {
  const res = await get(bearer);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return parsePrometheusText(await res.text());
}

test("refused without credentials, with a wrong token and for a non-admin; {error, code} each time", async () => {
  for (const [bearer, status, code] of [
    [undefined, 401, "UNAUTHORIZED"],
    [`${TOKEN.slice(0, -1)}${TOKEN.endsWith("0") ? "1" : "0"}`, 401, "UNAUTHORIZED"],
    ["x".repeat(64), 401, "UNAUTHORIZED"],
    [userToken, 403, "FORBIDDEN"],
  ] as const) {
    const res = await get(bearer);
    expect(res.status).toBe(status);
    const body = (await res.json()) as { error: string; code: string };
    expect(body.code).toBe(code);
    expect(body.error.length).toBeGreaterThan(0);
  }
});

test("the metrics token and an admin read it; every family is typed and helped", async () => {
  const byToken = await scrape();
  const byAdmin = await scrape(stack.admin.token);
  for (const families of [byToken, byAdmin]) {
    expect(families.size).toBeGreaterThan(15);
    for (const family of families.values()) {
      expect(family.name.startsWith("oqto_")).toBe(true);
      expect(["counter", "gauge"]).toContain(family.type);
      expect(family.help?.length).toBeGreaterThan(0);
      if (family.type === "counter") expect(family.name.endsWith("_total")).toBe(true);
    }
  }
  const health = (await (await fetch(`${stack.baseUrl}/api/health`)).json()) as { version: string };
  expect(sampleValue(byToken, "oqto_build_info", { version: health.version })).toBe(1);
  expect(sampleValue(byToken, "oqto_uptime_seconds")).toBeGreaterThan(0);
  expect(sampleValue(byToken, "oqto_process_resident_memory_bytes")).toBeGreaterThan(10 * 1024 * 1024);
  expect(sampleValue(byToken, "oqto_process_heap_bytes", { kind: "used" })).toBeGreaterThan(0);
  expect(sampleValue(byToken, "oqto_runner_restarts_total")).toBe(0);
});

test("the counters move as a session streams", async () => {
  const before = await scrape();
  const made = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${stack.admin.token}` },
    body: JSON.stringify({ name: "metrics" }),
  });
  expect(made.status).toBe(201);
  const cwd = ((await made.json()) as { path: string }).path;
  const mux = await MuxClient.connect(stack.wsUrl, stack.admin.token);
  try {
    const sessionId = newSessionId();
    expect((await mux.command(sessionId, "session.create", { config: { harness: "pi", cwd } })).success).toBe(
      true,
    );
    const idle = await scrape();
    expect(sampleValue(idle, "oqto_runners_connected")).toBe(1);
    expect(sampleValue(idle, "oqto_websocket_connections")).toBe(
      sampleValue(before, "oqto_websocket_connections") + 1,
    );
    expect(sampleValue(idle, "oqto_sessions", { state: "idle" })).toBe(
      sampleValue(before, "oqto_sessions", { state: "idle" }) + 1,
    );

    // A slow answer: the scrape in its middle sees the session streaming.
    stack.fakeLlm.script([
      {
        text: Array.from({ length: 30 }, (_, i) => `word${i} `),
        delayMs: 100,
        usage: { prompt_tokens: 123, completion_tokens: 45 },
      },
    ]);
    const from = mux.frames.length;
    expect((await mux.command(sessionId, "prompt", { message: "stream slowly" })).success).toBe(true);
    await mux.event(sessionId, "agent.working", from);
    await mux.waitFor(
      (f) => f.session_id === sessionId && typeof f.event === "string" && f.event.startsWith("stream."),
      30_000,
      from,
    );
    const streaming = await scrape();
    expect(sampleValue(streaming, "oqto_sessions", { state: "streaming" })).toBe(1);
    expect(sampleValue(streaming, "oqto_admission_generating_sessions")).toBe(1);
    await mux.event(sessionId, "agent.idle", from, 60_000);

    const after = await scrape();
    const relayed = mux.events(sessionId).length;
    expect(sampleValue(after, "oqto_events_relayed_total")).toBeGreaterThanOrEqual(
      sampleValue(before, "oqto_events_relayed_total") + relayed,
    );
    expect(sampleValue(after, "oqto_llm_gateway_requests_total")).toBe(
      sampleValue(before, "oqto_llm_gateway_requests_total") + 1,
    );
    expect(sampleValue(after, "oqto_llm_gateway_tokens_total", { kind: "input" })).toBe(
      sampleValue(before, "oqto_llm_gateway_tokens_total", { kind: "input" }) + 123,
    );
    expect(sampleValue(after, "oqto_llm_gateway_tokens_total", { kind: "output" })).toBe(
      sampleValue(before, "oqto_llm_gateway_tokens_total", { kind: "output" }) + 45,
    );
    expect(sampleValue(after, "oqto_llm_gateway_responses_total", { status: "200" })).toBeGreaterThanOrEqual(
      1,
    );
    expect(sampleValue(after, "oqto_admission_generating_sessions")).toBe(0);

    // A provider error counts under its status.
    stack.fakeLlm.script([{ status: 400, errorBody: { error: { message: "bad request, on purpose" } } }]);
    const again = mux.frames.length;
    expect((await mux.command(sessionId, "prompt", { message: "fail" })).success).toBe(true);
    await mux.event(sessionId, "agent.idle", again, 60_000);
    expect(
      sampleValue(await scrape(), "oqto_llm_gateway_responses_total", { status: "400" }),
    ).toBeGreaterThanOrEqual(1);

    expect((await mux.command(sessionId, "session.close")).success).toBe(true);
    const closed = await scrape();
    expect(sampleValue(closed, "oqto_sessions", { state: "idle" })).toBe(
      sampleValue(before, "oqto_sessions", { state: "idle" }),
    );
  } finally {
    mux.close();
  }
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline && sampleValue(await scrape(), "oqto_websocket_connections") > 0)
    await Bun.sleep(50);
  expect(sampleValue(await scrape(), "oqto_websocket_connections")).toBe(0);
}, 120_000);

test("serve refuses to start with a metrics token file it cannot use, naming it", async () => {
  const main = resolve(import.meta.dir, "../../src/cli/main.ts");
  const short = join(tokenDir, "short.token");
  writeFileSync(short, "too-short\n");
  for (const [file, why] of [
    [join(tokenDir, "missing.token"), "cannot be read: ENOENT"],
    [short, "at least 32 characters"],
  ] as const) {
    const config = join(tokenDir, "bad.toml");
    writeFileSync(
      config,
      `[server]\nport = 0\nmetrics_token_file = ${JSON.stringify(file)}\n[runner]\nsupervise = false\nsocket = ${JSON.stringify(join(tokenDir, "r.sock"))}\n`,
    );
    const run = await runProcess([
      process.execPath,
      main,
      "serve",
      "--config",
      config,
      "--data-dir",
      join(tokenDir, "data"),
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(
      `oqto: [server] metrics_token_file ${file} ${why === "cannot be read: ENOENT" ? why : `must hold one token of ${why} without spaces (e.g. openssl rand -hex 32)`}`,
    );
  }
});
