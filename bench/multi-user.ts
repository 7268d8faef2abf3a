/**
 * Multi-user benchmark (issue 12), as root: the whole product in multi-user mode (the privileged
 * helper, the web server as its service user, one Linux user and runner per platform user, real
 * pi, the fake LLM).
 *
 *   - a new user: register → workspace → session → first turn's agent.idle
 *   - a returning user's runner cold start: the request that has to start it, to its answer
 *   - RSS of an idle runner (the runner plus its history service)
 *   - N users streaming at once against 1 alone, in the same run: each text delta's latency from
 *     the fake LLM sending it to the user's WebSocket receiving it (one process, one clock), p50 / p99
 *
 *   bun bench/multi-user.ts [--users 20] [--words 100] [--delay-ms 20]
 */
import { parseArgs } from "node:util";
import { processesOf } from "../src/privileged/linux-users.ts";
import { lookupAccount } from "../src/shared/linux-account.ts";
import { cmdline, procStatus } from "../tests/helpers/linux-processes.ts";
import { type MultiUserStack, startMultiUserStack } from "../tests/helpers/multi-user-stack.ts";
import { MuxClient, newSessionId } from "../tests/helpers/mux-client.ts";

const { values } = parseArgs({
  options: {
    users: { type: "string", default: "20" },
    words: { type: "string", default: "100" },
    "delay-ms": { type: "string", default: "20" },
  },
});
const USERS = Number(values.users);
const WORDS = Number(values.words);
const DELAY_MS = Number(values["delay-ms"]);
const PASSWORD = "harbor-violet-engine-61";

if (process.getuid?.() !== 0) {
  console.error("bench/multi-user.ts needs root (multi-user mode makes Linux users)");
  process.exit(2);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
const median = (values: number[]) => percentile(values, 50);
const fmt = (n: number) => n.toFixed(1);

interface BenchUser {
  name: string;
  token: string;
  uid: number;
  workspace: string;
  sessionId: string;
  mux: MuxClient;
}

async function api(stack: MultiUserStack, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? undefined : res.json();
}

/**
 * A public auth request (register, login), waiting out the per-client limit of 10 a minute that
 * one benchmark client hits; resolves with the answer and when the attempt that got it started.
 */
async function publicAuth(
  stack: MultiUserStack,
  path: string,
  body: unknown,
): Promise<{ body: unknown; startedAt: number }> {
  for (;;) {
    const startedAt = performance.now();
    const res = await fetch(`${stack.baseUrl}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (res.status === 429) {
      await Bun.sleep(Number(res.headers.get("retry-after") ?? "5") * 1000);
      continue;
    }
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return { body: await res.json(), startedAt };
  }
}

/** Register → workspace → session → one turn; resolves with the user and the milliseconds it took. */
async function newUser(stack: MultiUserStack, name: string): Promise<{ user: BenchUser; ms: number }> {
  const invite = (await api(stack, stack.admin.token, "POST", "/api/admin/invite-codes", {})) as {
    invites: { code: string }[];
  };
  const registered = await publicAuth(stack, "/api/auth/register", {
    username: name,
    password: PASSWORD,
    invite_code: invite.invites[0]?.code,
  });
  const started = registered.startedAt;
  const token = (registered.body as { token: string }).token;
  const { path } = (await api(stack, token, "POST", "/api/workspaces", { name: "bench" })) as {
    path: string;
  };
  const mux = await MuxClient.connect(stack.wsUrl, token);
  const sessionId = newSessionId();
  const created = await mux.command(sessionId, "session.create", { config: { harness: "pi", cwd: path } });
  if (!created.success) throw new Error(`session.create: ${JSON.stringify(created)}`);
  stack.fakeLlm.script([{ match: `${name} hello`, text: "hi" }]);
  const from = mux.frames.length;
  await mux.command(sessionId, "prompt", { message: `${name} hello` });
  await mux.event(sessionId, "agent.idle", from, 60_000);
  const ms = performance.now() - started;
  return {
    user: { name, token, uid: lookupAccount(`oqto_${name}`).uid, workspace: path, sessionId, mux },
    ms,
  };
}

function rssKb(pid: number): number {
  return Number.parseInt(procStatus(pid).VmRSS ?? "0", 10);
}

/** The user's runner and history service: the processes an idle user costs. */
function idleRssMb(uid: number): number {
  const pids = processesOf(uid).filter((pid) => {
    const argv = cmdline(pid);
    return argv.includes("runner") || argv.includes("hstry");
  });
  return pids.reduce((sum, pid) => sum + rssKb(pid), 0) / 1024;
}

/**
 * Every user streams one turn at once; each text delta's latency in ms, from the fake LLM sending
 * it (this process) to its frame reaching the user's WebSocket (this process): pi, the runner,
 * the server and the socket in between.
 */
async function streamAtOnce(stack: MultiUserStack, users: BenchUser[], round: string): Promise<number[]> {
  const words = (user: BenchUser) => Array.from({ length: WORDS }, (_, i) => `${user.name}${round}${i} `);
  stack.fakeLlm.script(
    users.map((user) => ({ match: `${user.name} ${round}`, text: words(user), delayMs: DELAY_MS })),
  );
  stack.fakeLlm.timeTextDeltas(true);
  const latencies: number[] = [];
  await Promise.all(
    users.map(async (user) => {
      const arrivals: Array<{ delta: string; at: number }> = [];
      const from = user.mux.frames.length;
      const onMessage = (event: MessageEvent) => {
        const at = performance.now();
        const data = String(event.data);
        if (!data.includes('"event":"stream.text_delta"')) return;
        arrivals.push({ delta: String((JSON.parse(data) as { delta: string }).delta), at });
      };
      user.mux.ws.addEventListener("message", onMessage);
      await user.mux.command(user.sessionId, "prompt", { message: `${user.name} ${round}` });
      await user.mux.event(user.sessionId, "agent.idle", from, 120_000);
      user.mux.ws.removeEventListener("message", onMessage);
      for (const { delta, at } of arrivals) {
        const sentAt = stack.fakeLlm.textDeltaSentAt(delta);
        if (sentAt !== undefined) latencies.push(at - sentAt);
      }
    }),
  );
  stack.fakeLlm.timeTextDeltas(false);
  return latencies;
}

const stack = await startMultiUserStack();
try {
  const users: BenchUser[] = [];
  const newUserMs: number[] = [];
  for (let i = 0; i < USERS; i++) {
    const { user, ms } = await newUser(stack, `bench${i}`);
    users.push(user);
    newUserMs.push(ms);
  }

  // Idle cost, measured once every runner has settled.
  await Bun.sleep(2000);
  const rss = users.map((user) => idleRssMb(user.uid));

  // Cold start: deactivation stops the runner; after reactivation the first request starts it.
  const coldMs: number[] = [];
  const admin = stack.admin.token;
  for (const user of users.slice(0, Math.min(5, users.length))) {
    const { id } = (await api(stack, user.token, "GET", "/api/me")) as { id: string };
    await api(stack, admin, "PATCH", `/api/admin/users/${id}`, { is_active: false });
    await api(stack, admin, "PATCH", `/api/admin/users/${id}`, { is_active: true });
    const login = await publicAuth(stack, "/api/auth/login", { username: user.name, password: PASSWORD });
    user.token = (login.body as { token: string }).token;
    const started = performance.now();
    await api(stack, user.token, "GET", "/api/workspaces");
    coldMs.push(performance.now() - started);
    user.mux = await MuxClient.connect(stack.wsUrl, user.token);
    await user.mux.command(user.sessionId, "session.create", {
      config: { harness: "pi", cwd: user.workspace },
    });
  }

  // One user alone, then all of them at once, in the same run.
  const alone = await streamAtOnce(stack, users.slice(0, 1), "alone");
  const together = await streamAtOnce(stack, users, "together");

  console.log(
    `\nMulti-user mode, ${USERS} users, real pi and the fake LLM (${WORDS} deltas, ${DELAY_MS} ms apart)\n`,
  );
  console.log("| measure | median | min | max |");
  console.log("|---|---|---|---|");
  console.log(
    `| new user: register → first turn's agent.idle (ms) | ${fmt(median(newUserMs))} | ${fmt(Math.min(...newUserMs))} | ${fmt(Math.max(...newUserMs))} |`,
  );
  console.log(
    `| returning user: runner cold start, request → answer (ms, ${coldMs.length} users) | ${fmt(median(coldMs))} | ${fmt(Math.min(...coldMs))} | ${fmt(Math.max(...coldMs))} |`,
  );
  console.log(
    `| RSS of an idle runner + its history service (MB) | ${fmt(median(rss))} | ${fmt(Math.min(...rss))} | ${fmt(Math.max(...rss))} |`,
  );
  console.log(
    "\n| users streaming at once | deltas | latency p50 ms | latency p99 ms | p50 / alone | p99 / alone |",
  );
  console.log("|---|---|---|---|---|---|");
  const row = (label: string, sample: number[]) =>
    `| ${label} | ${sample.length} | ${fmt(percentile(sample, 50))} | ${fmt(percentile(sample, 99))} | ${fmt(
      percentile(sample, 50) / Math.max(percentile(alone, 50), 0.1),
    )} | ${fmt(percentile(sample, 99) / Math.max(percentile(alone, 99), 0.1))} |`;
  console.log(row("1", alone));
  console.log(row(String(USERS), together));
  for (const user of users) user.mux.close();
} finally {
  await stack.stop();
}
