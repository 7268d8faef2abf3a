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
 *                          [--turns 1,2] [--merge-window-ms MS] [--merge-above N]
 *
 * `--turns` says which of each session's turns are measured (all run): the first is its pi's first, with
 * pi's one-time costs (its provider module loaded, its code compiled), the second shows a session that
 * has answered before. `--merge-window-ms` / `--merge-above` set `[llm_gateway]` (0 ms: merging off).
 *
 * `--admission` sets how many sessions serve lets generate at once (0, the default here: all of them;
 * `default`: serve's own default, 15 × cores); sessions over it wait in serve's queue, so their time to
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
    /** Which of each session's turns to measure, e.g. "1,2": its pi's first (cold) and second (warm). */
    turns: { type: "string", default: "1,2" },
    /** [llm_gateway] merge_window_ms: 0 sends every delta in its own record; unset leaves serve's default. */
    "merge-window-ms": { type: "string" },
    /** [llm_gateway] merge_above_streams: unset leaves serve's default (the cores). */
    "merge-above": { type: "string" },
  },
});
const SESSION_COUNTS = String(values.sessions)
  .split(",")
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isInteger(n) && n > 0);
const K = Number(values.deltas);
const D = Number(values["delay-ms"]);
const MAX_SESSIONS = Math.max(...SESSION_COUNTS);
const TURNS = String(values.turns)
  .split(",")
  .map((s) => Number(s.trim()))
  .filter((t) => Number.isInteger(t) && t > 0)
  .sort((a, b) => a - b);
const LAST_TURN = Math.max(...TURNS);
if (SESSION_COUNTS.length === 0 || TURNS.length === 0 || !(K > 0) || !(D >= 0)) {
  console.error(
    "usage: bun bench/streaming.ts [--sessions 1,10,20,50] [--deltas 200] [--delay-ms 10] [--turns 1,2]",
  );
  process.exit(2);
}

const progress = (message: string) => console.error(`[streaming] ${message}`);

// ---- the stack and its client ----------------------------------------------------------------

progress(`starting the stack (serve, runner, history) …`);
const stack = await startStack({
  runnerConfig: `max_sessions = ${Math.max(32, MAX_SESSIONS + 2)}\npool_size = 2`,
  extraConfig: [
    values.admission === "default"
      ? ""
      : `[admission]\nmax_generating_sessions = ${Number(values.admission)}\n`,
    values["merge-window-ms"] === undefined && values["merge-above"] === undefined ? "" : "[llm_gateway]\n",
    values["merge-window-ms"] === undefined ? "" : `merge_window_ms = ${Number(values["merge-window-ms"])}\n`,
    values["merge-above"] === undefined ? "" : `merge_above_streams = ${Number(values["merge-above"])}\n`,
  ].join(""),
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

/** One turn of every session, streaming at once. */
interface TurnRound {
  turn: number;
  stream: StreamResult;
  windowMs: number;
  /** The whole machine's CPU over the window, ms (all cores summed), and how much of it was steal. */
  machineCpuMs: number;
  stealMs: number;
  cpuMs: Record<(typeof ROLE_NAMES)[number] | "bench", number>;
  pssStreaming: Record<keyof Roles, number>;
}

interface OqtoRound {
  createMs: number[];
  createdFirst: number;
  /** CPU ms during the creation: pi's (every new process, summed) and the runner's. */
  createCpuMs: { pi: number; runner: number };
  pssIdle: Record<keyof Roles, number>;
  piProcesses: number;
  turns: TurnRound[];
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

  const turns: TurnRound[] = [];
  for (let turn = 1; turn <= LAST_TURN; turn++) {
    const round = await streamTurn(client, sessions, roles, turn);
    if (TURNS.includes(turn)) turns.push(round);
    if (turn < LAST_TURN) await Bun.sleep(500);
  }

  // Close the sessions so that the next round starts with none.
  await Promise.all(sessions.map(({ id }) => client.command(id, "session.close")));
  const deadline = Date.now() + 20_000;
  while (rolesUnder(stack.serve.pid).pi.length > 0 && Date.now() < deadline) await Bun.sleep(100);
  fake.reset();
  return { createMs, createdFirst, createCpuMs, pssIdle, piProcesses: roles.pi.length, turns };
}

/** Turn `turn` of every session at once: K deltas D ms apart each, timed, with CPU per role. */
async function streamTurn(
  client: BenchMuxClient,
  sessions: Array<{ number: number; id: string }>,
  roles: Roles,
  turn: number,
): Promise<TurnRound> {
  fake.timeTextDeltas(true);
  fake.script(
    sessions.map(({ number }) => ({
      match: `stream-${number}-turn-${turn}-go`,
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
    return client.command(id, "prompt", { message: `stream-${number}-turn-${turn}-go` });
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
  } as TurnRound["cpuMs"];
  const stream = summarise(tracks, (text) => fake.textDeltaSentAt(text));
  fake.timeTextDeltas(false);
  for (const { id } of sessions) client.tracks.delete(id);
  return {
    turn,
    stream,
    windowMs,
    machineCpuMs: ((machineAfter.busy - machineBefore.busy) * 1000) / CLK_TCK,
    stealMs: ((machineAfter.steal - machineBefore.steal) * 1000) / CLK_TCK,
    cpuMs,
    pssStreaming: await pssStreaming,
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
    for (const t of oqto.turns) {
      progress(
        `  turn ${t.turn}: added p50 ${f2(percentile(t.stream.latencies, 50) - percentile(direct.latencies, 50))} ms, ` +
          `lost ${t.stream.lost}, window ${f1(t.windowMs)} ms`,
      );
    }
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
    `admission: ${values.admission === "default" ? "serve's default" : Number(values.admission) === 0 ? "unlimited" : `${values.admission} generating at once`}; ` +
    `gateway delta merging: ${values["merge-window-ms"] === undefined ? "serve's default" : Number(values["merge-window-ms"]) === 0 ? "off" : `${values["merge-window-ms"]} ms window`}`,
);
line();
line(
  "Per-delta latency, fake LLM sent → client received, and time to first delta (prompt/request sent → first text delta), ms, p50 / p99",
);
line();
line(
  "| sessions | turn | deltas received / sent | lost / duplicated / reordered | text intact | direct | through Oqto | added by Oqto | first delta direct | first delta through Oqto |",
);
line("|---|---|---|---|---|---|---|---|---|---|");
for (const { n, direct, oqto } of rows)
  for (const t of oqto.turns) {
    const s = t.stream;
    const added = `${f2(percentile(s.latencies, 50) - percentile(direct.latencies, 50))} / ${f2(
      percentile(s.latencies, 99) - percentile(direct.latencies, 99),
    )}`;
    line(
      `| ${n} | ${t.turn} | ${s.received} / ${n * K} | ${s.lost} / ${s.duplicated} / ${s.reordered} | ${s.intactSessions} of ${n} | ${pair(direct.latencies)} | ${pair(s.latencies)} | ${added} | ${pair(direct.firstDelta)} | ${pair(s.firstDelta)} |`,
    );
  }
const directBad = rows.filter(({ direct }) => direct.lost + direct.duplicated + direct.reordered > 0);
line();
line(
  `(direct reads: ${directBad.length === 0 ? "all deltas, once, in order" : `problems at ${directBad.map((r) => r.n).join(", ")} sessions`}; ` +
    `frames carrying text deltas through Oqto (of them coalesced, with \`seq_from\`): ${rows.flatMap(({ n, oqto }) => oqto.turns.map((t) => `${t.stream.frames} (${t.stream.coalesced}) at ${n} turn ${t.turn}`)).join(", ")}; resync_required frames: ${resyncs})`,
);

line();
line(
  "CPU while streaming (prompts sent → last agent.idle), from /proc/<pid>/stat: % of one core · CPU ms per delta",
);
line();
line(
  `| sessions | turn | window ms | pi (summed) | runner | serve | history | Oqto total | this process (fake LLM + client) | whole machine (of ${cpus().length * 100} %) |`,
);
line("|---|---|---|---|---|---|---|---|---|---|");
for (const { n, oqto } of rows)
  for (const t of oqto.turns) {
    const deltas = Math.max(1, t.stream.received);
    const cell = (ms: number) => `${f1((ms / t.windowMs) * 100)} % · ${f3(ms / deltas)}`;
    const total = ROLE_NAMES.reduce((sum, role) => sum + t.cpuMs[role], 0);
    line(
      `| ${n} | ${t.turn} | ${f1(t.windowMs)} | ${cell(t.cpuMs.pi)} | ${cell(t.cpuMs.runner)} | ${cell(t.cpuMs.serve)} | ${cell(t.cpuMs.history)} | ${cell(total)} | ${cell(t.cpuMs.bench)} | ${f1((t.machineCpuMs / t.windowMs) * 100)} %${t.stealMs > 0 ? ` (steal ${f1((t.stealMs / t.windowMs) * 100)} %)` : ""} |`,
    );
  }
line();
line(
  `A streaming session's own cost, pi + runner + serve: CPU ms per delta, and that at the stream's rate (${D > 0 ? `${f1(1000 / D)} deltas/s` : "no pacing"}) as % of one core (the issue's measure; not divided by a window that saturation stretches)`,
);
line();
line("| sessions | turn | CPU ms per delta | % of one core at the stream's rate |");
line("|---|---|---|---|");
for (const { n, oqto } of rows)
  for (const t of oqto.turns) {
    const perDelta = (t.cpuMs.pi + t.cpuMs.runner + t.cpuMs.serve) / Math.max(1, t.stream.received);
    line(`| ${n} | ${t.turn} | ${f3(perDelta)} | ${D > 0 ? `${f1((perDelta / D) * 100)} %` : "–"} |`);
  }

line();
line("PSS per role, MB: sessions created and idle / halfway through the last measured turn's stream");
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
  const b = (oqto.turns.at(-1) as TurnRound).pssStreaming;
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
