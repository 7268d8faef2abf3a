/**
 * `oqto status` against a running stack (the server, its runner and history service with their real
 * users, uptimes, the open sessions from the metrics) and against nothing (exit 3, one clear line).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { StatusReport } from "../../src/status/status-report.ts";
import { MuxClient, newSessionId } from "../helpers/mux-client.ts";
import { runProcess } from "../helpers/run-process.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

const MAIN = resolve(import.meta.dir, "../../src/cli/main.ts");
let dir: string;
let stack: Stack;
let mux: MuxClient;

const oqto = (args: string[]) => runProcess([process.execPath, MAIN, ...args]);
const whoAmI = () => Bun.spawnSync(["id", "-un"]).stdout.toString().trim();

beforeAll(async () => {
  dir = mkdtempSync("/tmp/oqto-status-");
  const tokenFile = join(dir, "metrics.token");
  writeFileSync(tokenFile, `${"ab12".repeat(16)}\n`, { mode: 0o600 });
  stack = await startStack({ serverConfig: `metrics_token_file = ${JSON.stringify(tokenFile)}` });
  const made = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${stack.admin.token}` },
    body: JSON.stringify({ name: "status" }),
  });
  expect(made.status).toBe(201);
  const cwd = ((await made.json()) as { path: string }).path;
  mux = await MuxClient.connect(stack.wsUrl, stack.admin.token);
  const created = await mux.command(newSessionId(), "session.create", { config: { harness: "pi", cwd } });
  expect(created.success).toBe(true);
}, 90_000);

afterAll(async () => {
  mux?.close();
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("--json lists the server, the runner and its history service with their users, uptimes and the open session", async () => {
  const run = await stack.cli(["status", "--json"]);
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  const report = StatusReport.parse(JSON.parse(run.stdout));
  expect(report.server.reachable).toBe(true);
  expect(report.server.url).toBe(stack.baseUrl);
  expect(report.server.process?.pid).toBe(stack.serve.pid);
  expect(report.server.process?.user).toBe(whoAmI());
  expect(report.server.process?.uptime_s).toBeGreaterThan(0);
  expect(report.server.version).toBe(report.cli_version);
  expect(report.mode).toBe("single-user");
  expect(report.helper).toBeNull();
  const runnerUser = stack.runAs?.name ?? whoAmI();
  expect(report.runners).toHaveLength(1);
  const [runner] = report.runners;
  expect(runner?.user).toBe(runnerUser);
  expect(runner?.uptime_s).toBeGreaterThan(0);
  expect(runner?.pi_processes).toBe(1);
  expect(runner?.history).toHaveLength(1);
  expect(runner?.history[0]?.user).toBe(runnerUser);
  expect(runner?.history[0]?.uptime_s).toBeGreaterThan(0);
  expect(report.sessions).toMatchObject({
    known: true,
    open: 1,
    websocket_connections: 1,
    runners_connected: 1,
  });
  if (report.sessions.known) expect(report.sessions.by_state.idle).toBe(1);
});

test("the text form says the same in one line per component", async () => {
  const run = await stack.cli(["status"]);
  expect(run.code).toBe(0);
  const lines = run.stdout.trim().split("\n");
  expect(lines[0]).toMatch(
    new RegExp(
      `^server {4}running, pid ${stack.serve.pid} as \\S+, up \\d+s, ${stack.baseUrl}, version \\S+ \\(single-user\\)$`,
    ),
  );
  expect(lines).toContainEqual(
    expect.stringMatching(/^runner {4}pid \d+ as \S+, up \d+s, 1 pi process\(es\)$/),
  );
  expect(lines).toContainEqual(expect.stringMatching(/^ {2}history pid \d+ as \S+, up \d+s$/));
  expect(lines).toContainEqual(
    expect.stringMatching(/^sessions {2}1 open \(1 idle\); 1 WebSocket connection/),
  );
});

test("without a metrics token in the config the sessions are unknown, and it says why", async () => {
  const report = StatusReport.parse(JSON.parse((await stack.cli(["status", "--json"])).stdout));
  const config = readFileSync(report.config_file, "utf8").replace(/^metrics_token_file = .*$/m, "");
  const bare = join(dir, "bare.toml");
  writeFileSync(bare, config);
  const run = await oqto(["status", "--config", bare, "--data-dir", stack.dataDir]);
  expect(run.code).toBe(0);
  expect(run.stdout).toContain("sessions  unknown (no metrics token configured)");
});

test("against nothing it exits 3 with one clear line, and --json says so too", async () => {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  const config = join(dir, "nothing.toml");
  writeFileSync(config, `[server]\nport = ${port}\n`);
  const args = ["status", "--config", config, "--data-dir", join(dir, "no-data")];
  const text = await oqto(args);
  expect(text.code).toBe(3);
  expect(text.stdout.trim()).toBe(
    `oqto is not running: no oqto serve process for data dir ${join(dir, "no-data")}, and nothing answers at http://127.0.0.1:${port}`,
  );
  const json = await oqto([...args, "--json"]);
  expect(json.code).toBe(3);
  const report = StatusReport.parse(JSON.parse(json.stdout));
  expect(report.server).toMatchObject({ process: null, reachable: false });
  expect(report.runners).toEqual([]);
});

test("--help describes it, and a stray flag is one line on stderr", async () => {
  const help = await oqto(["status", "--help"]);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain("usage: oqto status");
  const bad = await oqto(["status", "--nonsense"]);
  expect(bad.code).toBe(2);
  expect(bad.stderr.trim().split("\n")).toHaveLength(1);
});
