/**
 * `oqto status` in multi-user mode (root only): the web server as the service user, the privileged
 * helper as root above it, and each platform user's runner and history service as that user's
 * own Linux account, found although the runners are nobody's children.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { dirname, join, resolve } from "node:path";
import { StatusReport } from "../../src/status/status-report.ts";
import { type MultiUserStack, startMultiUserStack } from "../helpers/multi-user-stack.ts";
import { runProcess } from "../helpers/run-process.ts";

const MAIN = resolve(import.meta.dir, "../../src/cli/main.ts");
const asRoot = process.getuid?.() === 0;
let stack: MultiUserStack;

beforeAll(async () => {
  if (!asRoot) return;
  stack = await startMultiUserStack();
  const token = await stack.register("statususer", "a-long-user-password-1");
  // A user's first request has the helper start their runner.
  const res = await fetch(`${stack.baseUrl}/api/workspaces`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

test.skipIf(!asRoot)(
  "shows the helper, the server as the service user and the user's runner as oqto_<name>",
  async () => {
    const run = await runProcess([
      process.execPath,
      MAIN,
      "status",
      "--json",
      "--config",
      join(dirname(stack.dataDir), "config.toml"),
      "--data-dir",
      stack.dataDir,
    ]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const report = StatusReport.parse(JSON.parse(run.stdout));
    expect(report.mode).toBe("multi-user");
    expect(report.server).toMatchObject({ reachable: true, url: stack.baseUrl, multi_user: true });
    expect(report.server.process?.user).toBe(stack.serviceUser);
    expect(report.helper).toMatchObject({ pid: stack.serve.pid, user: "root", uid: 0 });
    const runners = report.runners.filter((runner) => runner.user === "oqto_statususer");
    expect(runners).toHaveLength(1);
    expect(runners[0]?.uptime_s).toBeGreaterThan(0);
    expect(runners[0]?.history.map((history) => history.user)).toEqual(["oqto_statususer"]);
    expect(report.sessions).toEqual({ known: false, reason: "no metrics token configured" });
  },
);
