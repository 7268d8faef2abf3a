/**
 * End-to-end streaming benchmark (issue 14): the whole product in single-user mode
 * (tests/helpers/stack.ts: `oqto serve`, its runner, its history service, one real pi per session),
 * the scripted fake LLM streaming K text deltas D ms apart to every session, N sessions at once and
 * one WebSocket client subscribed to all of them. The fake and the client run in this process, so a
 * delta's send time (the fake's) and receive time (the client's) are on one clock.
 *
 * For each N, side by side in one run:
 *   - the same N streams read straight off the fake LLM by a plain HTTP client in this process
 *     ("direct"), then through Oqto (fake → serve's LLM gateway → pi → runner → serve → WebSocket):
 *     per-delta latency, fake sent → client received, p50 / p99, and what Oqto adds;
 *   - time to first delta per session (prompt or request sent → first text delta), p50 / p99;
 *   - every delta delivered once and in order: each delta's text carries a marker `[s.i]`; the
 *     check runs on each session's concatenated text, and a marker counts as received when the
 *     frame completing it arrives (so a frame carrying several coalesced deltas counts them all at
 *     its arrival);
 *   - CPU per role (pi summed, runner, serve, history; this process for reference) over the
 *     streaming window, from /proc/<pid>/stat utime+stime: % of one core and CPU ms per delta;
 *   - PSS per role (/proc/<pid>/smaps_rollup) with the sessions idle and while streaming;
 *   - session create time: `session.create` sent → its response (the runner answers once pi
 *     answered its first `get_state`, after `session.created`), N at once.
 *
 *   bun bench/streaming.ts [--sessions 1,10,20,50] [--deltas 200] [--delay-ms 10] [--admission 0|N|default]
 *
 * `--admission` sets how many sessions serve lets generate at once (0, the default here: all of them;
 * `default`: serve's own default, 5 × cores); sessions over it wait in serve's queue, so their time to
 * first delta includes the wait while their per-delta latency counts only once admitted.
 */
import { readFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { startStack } from "../tests/helpers/stack.ts";
import { BenchMuxClient } from "./bench-mux-client.ts";
import {
  deltaText,
  f1,
  f2,
  f3,
  pair,
  percentile,
  type StreamResult,
  summarise,
  Track,
} from "./delta-tracking.ts";
import {
  CLK_TCK,
  machineTicks,
  pssByRole,
  ROLE_NAMES,
  type Roles,
  rolesUnder,
  ticksOf,
} from "./process-tree.ts";

const REPO = resolve(import.meta.dir, "..");
const { values } = parseArgs({
  options: {
    sessions: { type: "string", default: "1,10,20,50" },
    deltas: { type: "string", default: "200" },
    "delay-ms": { type: "string", default: "10" },
    /** [admission] max_generating_sessions: 0 measures the machine unguarded; "default" leaves serve's. */
    admission: { type: "string", default: "0" },
  },
});
const SESSION_COUNTS = String(values.sessions)
  .split(",")
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isInteger(n) && n > 0);
const K = Number(values.deltas);
const D = Number(values["delay-ms"]);
const MAX_SESSIONS = Math.max(...SESSION_COUNTS);
if (SESSION_COUNTS.length === 0 || !(K > 0) || !(D >= 0)) {
  console.error("usage: bun bench/streaming.ts [--sessions 1,10,20,50] [--deltas 200] [--delay-ms 10]");
  process.exit(2);
}

const progress = (message: string) => console.error(`[streaming] ${message}`);

// ---- the stack and its client ----------------------------------------------------------------

progress(`starting the stack (serve, runner, history) …`);
const stack = await startStack({
  runnerConfig: `max_sessions = ${Math.max(32, MAX_SESSIONS + 2)}\npool_size = 2`,
  ...(values.admission === "default"
    ? {}
    : { extraConfig: `[admission]\nmax_generating_sessions = ${Number(values.admission)}\n` }),
});
const fake = stack.fakeLlm;

const newSessionId = () => `oqto-${Bun.randomUUIDv7()}`;
let nextSessionNumber = 1;

/** The direct baseline: N streams read straight off the fake LLM by a plain HTTP client. */
async function streamDirect(n: number): Promise<StreamResult> {
  const sessions = Array.from({ length: n }, () => nextSessionNumber++);
  fake.timeTextDeltas(true);
  fake.script(
    sessions.map((s) => ({
      match: `direct-${s}-go`,
      text: Array.from({ length: K }, (_, i) => deltaText(s, i)),
      delayMs: D,
    })),
  );
  const tracks = sessions.map((s) => new Track(s, K));
  await Promise.all(
    tracks.map(async (track) => {
      track.startedAt = performance.now();
      const res = await fetch(`${fake.url}/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer fake-key" },
        body: JSON.stringify({
          model: "fake-model",
          stream: true,
          messages: [{ role: "user", content: `direct-${track.session}-go` }],
        }),
      });
      if (!res.body) throw new Error("direct: no body");
      const decoder = new TextDecoder();
      let buffered = "";
      for await (const chunk of res.body) {
        const at = performance.now();
        buffered += decoder.decode(chunk, { stream: true });
        let end = buffered.indexOf("\n\n");
        while (end >= 0) {
          const event = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          end = buffered.indexOf("\n\n");
          if (!event.startsWith("data: ") || event === "data: [DONE]") continue;
          const parsed = JSON.parse(event.slice(6)) as { choices: Array<{ delta?: { content?: string } }> };
          const content = parsed.choices[0]?.delta?.content;
          if (content) track.feed(content, at);
        }
      }
    }),
  );
  const result = summarise(tracks, (text) => fake.textDeltaSentAt(text));
  fake.timeTextDeltas(false);
  return result;
}

interface OqtoRound {
  stream: StreamResult;
  createMs: number[];
  createdFirst: number;
  /** CPU ms during the creation: pi's (every new process, summed) and the runner's. */
  createCpuMs: { pi: number; runner: number };
  windowMs: number;
  /** The whole machine's CPU over the window, ms (all cores summed), and how much of it was steal. */
  machineCpuMs: number;
  stealMs: number;
  cpuMs: Record<(typeof ROLE_NAMES)[number] | "bench", number>;
  pssIdle: Record<keyof Roles, number>;
  pssStreaming: Record<keyof Roles, number>;
  piProcesses: number;
}

/** N sessions created at once, then all streaming at once to the one client. */
async function streamOqto(client: BenchMuxClient, workspace: string, n: number): Promise<OqtoRound> {
  const sessions = Array.from({ length: n }, () => ({ number: nextSessionNumber++, id: newSessionId() }));

  // Session create, all at once: request → response (sent once pi answered get_state).
  const before = rolesUnder(stack.serve.pid);
  const runnerTicksBefore = ticksOf(before.runner);
  const createMs = await Promise.all(
    sessions.map(async ({ id }) => {
      const started = performance.now();
      const res = await client.command(id, "session.create", { config: { harness: "pi", cwd: workspace } });
      const ms = performance.now() - started;
      if (!res.success) throw new Error(`session.create: ${JSON.stringify(res)}`);
      return ms;
    }),
  );
  const createdFirst = sessions.filter(({ id }) => client.created.has(id)).length;
  const afterCreate = rolesUnder(stack.serve.pid);
  const createCpuMs = {
    pi: (ticksOf(afterCreate.pi) * 1000) / CLK_TCK,
    runner: ((ticksOf(afterCreate.runner) - runnerTicksBefore) * 1000) / CLK_TCK,
  };
  progress(`  ${n} sessions created (p50 ${f1(percentile(createMs, 50))} ms); settling …`);
  await Bun.sleep(1500);
  const roles = rolesUnder(stack.serve.pid);
  const pssIdle = await pssByRole(roles);

  fake.timeTextDeltas(true);
  fake.script(
    sessions.map(({ number }) => ({
      match: `stream-${number}-go`,
      text: Array.from({ length: K }, (_, i) => deltaText(number, i)),
      delayMs: D,
    })),
  );
  const tracks = sessions.map(({ number, id }) => {
    const track = new Track(number, K);
    client.tracks.set(id, track);
    return track;
  });
  const ticksBefore = Object.fromEntries(ROLE_NAMES.map((role) => [role, ticksOf(roles[role])]));
  const benchBefore = process.cpuUsage();
  const machineBefore = machineTicks();
  const windowStart = performance.now();
  const idle = sessions.map(({ id }) => client.nextIdle(id));
  const prompts = sessions.map(({ number, id }, index) => {
    (tracks[index] as Track).startedAt = performance.now();
    return client.command(id, "prompt", { message: `stream-${number}-go` });
  });
  // PSS while streaming: once, halfway through the scripted stream.
  const pssStreaming = Bun.sleep((K * D) / 2).then(() => pssByRole(roles));
  for (const res of await Promise.all(prompts)) {
    if (!res.success) throw new Error(`prompt: ${JSON.stringify(res)}`);
  }
  await Promise.all(idle);
  const windowMs = performance.now() - windowStart;
  const benchCpu = process.cpuUsage(benchBefore);
  const machineAfter = machineTicks();
  const cpuMs = {
    ...Object.fromEntries(
      ROLE_NAMES.map((role) => [
        role,
        ((ticksOf(roles[role]) - (ticksBefore[role] as number)) * 1000) / CLK_TCK,
      ]),
    ),
    bench: (benchCpu.user + benchCpu.system) / 1000,
  } as OqtoRound["cpuMs"];
  const stream = summarise(tracks, (text) => fake.textDeltaSentAt(text));
  fake.timeTextDeltas(false);
  const streaming = await pssStreaming;

  // Close the sessions so that the next round starts with none.
  for (const { id } of sessions) client.tracks.delete(id);
  await Promise.all(sessions.map(({ id }) => client.command(id, "session.close")));
  const deadline = Date.now() + 20_000;
  while (rolesUnder(stack.serve.pid).pi.length > 0 && Date.now() < deadline) await Bun.sleep(100);
  fake.reset();
  return {
    stream,
    createMs,
    createdFirst,
    createCpuMs,
    windowMs,
    machineCpuMs: ((machineAfter.busy - machineBefore.busy) * 1000) / CLK_TCK,
    stealMs: ((machineAfter.steal - machineBefore.steal) * 1000) / CLK_TCK,
    cpuMs,
    pssIdle,
    pssStreaming: streaming,
    piProcesses: roles.pi.length,
  };
}

// ---- the run ---------------------------------------------------------------------------------

const load = loadavg();
const gitRev = Bun.spawnSync(["git", "-C", REPO, "rev-parse", "--short", "HEAD"]).stdout.toString().trim();
const gitDirty = Bun.spawnSync(["git", "-C", REPO, "status", "--porcelain", "src"]).stdout.toString().trim();
const rows: Array<{ n: number; direct: StreamResult; oqto: OqtoRound }> = [];
let pssNoSessions: Record<keyof Roles, number> | undefined;
let resyncs = 0;
try {
  const ws = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${stack.admin.token}` },
    body: JSON.stringify({ name: "bench" }),
  });
  if (ws.status !== 201) throw new Error(`workspace: ${ws.status} ${await ws.text()}`);
  const workspace = ((await ws.json()) as { path: string }).path;
  const client = await BenchMuxClient.connect(stack.wsUrl, stack.admin.token);

  await Bun.sleep(1500);
  pssNoSessions = await pssByRole(rolesUnder(stack.serve.pid));

  // Warm-up (not counted): one session, one short turn, so pi's files are in the page cache.
  progress("warm-up: one session, one turn …");
  {
    const id = newSessionId();
    await client.command(id, "session.create", { config: { harness: "pi", cwd: workspace } });
    fake.script([{ match: "warm-up", text: ["warm", "-up"] }]);
    const idle = client.nextIdle(id);
    await client.command(id, "prompt", { message: "warm-up" });
    await idle;
    await client.command(id, "session.close");
    await streamDirect(1);
  }

  for (const n of SESSION_COUNTS) {
    progress(`${n} session(s): direct …`);
    const direct = await streamDirect(n);
    progress(`${n} session(s): through Oqto (create ${n} at once, then stream) …`);
    const oqto = await streamOqto(client, workspace, n);
    rows.push({ n, direct, oqto });
    progress(
      `  added p50 ${f2(percentile(oqto.stream.latencies, 50) - percentile(direct.latencies, 50))} ms, ` +
        `lost ${oqto.stream.lost}, window ${f1(oqto.windowMs)} ms`,
    );
  }
  resyncs = client.resyncs;
  client.ws.close();
} finally {
  await stack.stop();
}

// ---- tables ----------------------------------------------------------------------------------

const piVersion = (() => {
  try {
    const pkg = JSON.parse(
      readFileSync(join(REPO, "node_modules/@mariozechner/pi-coding-agent/package.json"), "utf8"),
    ) as { version: string };
    return pkg.version;
  } catch {
    return "?";
  }
})();

const out: string[] = [];
const line = (s = "") => out.push(s);
line(
  `\nEnd-to-end streaming: ${K} text deltas ${D} ms apart per session, real pi per session, one WebSocket client for all sessions`,
);
line(
  `machine: ${cpus().length} cores, ${f1(totalmem() / 2 ** 30)} GiB, load average ${load.map((l) => l.toFixed(2)).join(" ")} at start; ` +
    `Bun ${Bun.version}, pi ${piVersion}; commit ${gitRev || "(not a git checkout)"}${gitDirty ? " with uncommitted changes in src/" : ""}; ` +
    `admission: ${values.admission === "default" ? "serve's default" : Number(values.admission) === 0 ? "unlimited" : `${values.admission} generating at once`}`,
);
line();
line(
  "Per-delta latency, fake LLM sent → client received, and time to first delta (prompt/request sent → first text delta), ms, p50 / p99",
);
line();
line(
  "| sessions | deltas received / sent | lost / duplicated / reordered | text intact | direct | through Oqto | added by Oqto | first delta direct | first delta through Oqto |",
);
line("|---|---|---|---|---|---|---|---|---|");
for (const { n, direct, oqto } of rows) {
  const s = oqto.stream;
  const added = `${f2(percentile(s.latencies, 50) - percentile(direct.latencies, 50))} / ${f2(
    percentile(s.latencies, 99) - percentile(direct.latencies, 99),
  )}`;
  line(
    `| ${n} | ${s.received} / ${n * K} | ${s.lost} / ${s.duplicated} / ${s.reordered} | ${s.intactSessions} of ${n} | ${pair(direct.latencies)} | ${pair(s.latencies)} | ${added} | ${pair(direct.firstDelta)} | ${pair(s.firstDelta)} |`,
  );
}
const directBad = rows.filter(({ direct }) => direct.lost + direct.duplicated + direct.reordered > 0);
line();
line(
  `(direct reads: ${directBad.length === 0 ? "all deltas, once, in order" : `problems at ${directBad.map((r) => r.n).join(", ")} sessions`}; ` +
    `frames carrying text deltas through Oqto (of them coalesced, with \`seq_from\`): ${rows.map(({ n, oqto }) => `${oqto.stream.frames} (${oqto.stream.coalesced}) at ${n}`).join(", ")}; resync_required frames: ${resyncs})`,
);

line();
line(
  "CPU while streaming (prompts sent → last agent.idle), from /proc/<pid>/stat: % of one core · CPU ms per delta",
);
line();
line(
  `| sessions | window ms | pi (summed) | runner | serve | history | Oqto total | this process (fake LLM + client) | whole machine (of ${cpus().length * 100} %) |`,
);
line("|---|---|---|---|---|---|---|---|---|");
for (const { n, oqto } of rows) {
  const deltas = Math.max(1, oqto.stream.received);
  const cell = (ms: number) => `${f1((ms / oqto.windowMs) * 100)} % · ${f3(ms / deltas)}`;
  const total = ROLE_NAMES.reduce((sum, role) => sum + oqto.cpuMs[role], 0);
  line(
    `| ${n} | ${f1(oqto.windowMs)} | ${cell(oqto.cpuMs.pi)} | ${cell(oqto.cpuMs.runner)} | ${cell(oqto.cpuMs.serve)} | ${cell(oqto.cpuMs.history)} | ${cell(total)} | ${cell(oqto.cpuMs.bench)} | ${f1((oqto.machineCpuMs / oqto.windowMs) * 100)} %${oqto.stealMs > 0 ? ` (steal ${f1((oqto.stealMs / oqto.windowMs) * 100)} %)` : ""} |`,
  );
}

line();
line("PSS per role, MB: sessions created and idle / halfway through the stream");
line();
line("| sessions | pi (summed) | pi per session | runner | serve | history | total |");
line("|---|---|---|---|---|---|---|");
if (pssNoSessions) {
  const p = pssNoSessions;
  line(
    `| 0 (before any session) | – | – | ${f1(p.runner)} | ${f1(p.serve)} | ${f1(p.history)} | ${f1(p.runner + p.serve + p.history)} |`,
  );
}
for (const { n, oqto } of rows) {
  const a = oqto.pssIdle;
  const b = oqto.pssStreaming;
  const both = (role: keyof Roles) => `${f1(a[role])} / ${f1(b[role])}`;
  const total = (p: Record<keyof Roles, number>) => p.pi + p.runner + p.serve + p.history;
  line(
    `| ${n} | ${both("pi")} | ${f1(a.pi / n)} / ${f1(b.pi / n)} | ${both("runner")} | ${both("serve")} | ${both("history")} | ${f1(total(a))} / ${f1(total(b))} |`,
  );
}
const piCounts = rows.map(({ n, oqto }) => `${oqto.piProcesses} for ${n}`).join(", ");
line();
line(
  `(pi: every process the runner started besides history, i.e. pi and its bwrap sandbox if on; ${piCounts} sessions)`,
);

line();
line(
  "Session create, N at once: `session.create` sent → its response (sent once pi answered `get_state`), ms",
);
line();
line(
  "| sessions created at once | p50 | max | session.created before the response | pi CPU ms per start | runner CPU ms per start |",
);
line("|---|---|---|---|---|---|");
for (const { n, oqto } of rows) {
  line(
    `| ${n} | ${f1(percentile(oqto.createMs, 50))} | ${f1(Math.max(...oqto.createMs))} | ${oqto.createdFirst} of ${n} | ${f1(oqto.createCpuMs.pi / n)} | ${f1(oqto.createCpuMs.runner / n)} |`,
  );
}
console.log(out.join("\n"));
process.exit(0);
