/**
 * Relay benchmark: how much does `oqto serve` add between a runner emitting an event and a
 * WebSocket client receiving it?
 *
 * This process plays the runner (the real runner protocol on a real unix socket, event lines
 * encoded by the real encoder, the emit time inside each delta) and the browsers (real
 * WebSockets). A real `oqto serve` relays between them. Because emitter and receiver share one
 * clock, latencies are exact. The same events are also read straight off a runner socket with no
 * serve in between, side by side, so the table shows what serve adds.
 *
 * A second table times pi's start-to-ready on Bun and on Node.
 *
 *   bun bench/relay.ts [--events 400] [--sessions 1,10,50]
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Socket } from "bun";
import { ConfigSchema } from "../src/config/schema.ts";
import { encodeEventLine, PROTOCOL_VERSION } from "../src/protocol/index.ts";
import { resolvePi } from "../src/runner/pi-install.ts";
import { LineConnection } from "../src/shared/line-connection.ts";
import { MuxClient, newSessionId } from "../tests/helpers/mux-client.ts";
import { PI_READY_ARGS, piReadyMs } from "./pi-ready.ts";

const REPO = resolve(import.meta.dir, "..");
const { values } = parseArgs({
  options: { events: { type: "string", default: "400" }, sessions: { type: "string", default: "1,10,50" } },
});
const EVENTS_PER_SESSION = Number(values.events);
const SESSION_COUNTS = String(values.sessions).split(",").map(Number);
/** Paced emission for the latency phase: one event per session every this many ms. */
const PACE_MS = 2;

// ---- a runner played by this process -------------------------------------------------------

interface PlayedRunner {
  emit: (line: string) => void;
  connected: Promise<void>;
  stop: () => void;
}

/** Serves the runner protocol on `socketPath`: hello, and a plausible answer to every request. */
function playRunner(socketPath: string): PlayedRunner {
  let conn: LineConnection | undefined;
  let markConnected: () => void = () => {};
  const connected = new Promise<void>((r) => {
    markConnected = r;
  });
  const answer = (method: string, params: Record<string, unknown>): unknown => {
    if (method === "agent.subscribe")
      return { seq: 0, epoch: "bench", running: true, events: [], resync_required: false };
    if (method === "workspace.list") return { workspaces: [] };
    if (method === "agent.command") {
      const command = params.command as { session_id: string; cmd: string; id?: string };
      return {
        event: "response",
        session_id: command.session_id,
        runner_id: "local",
        ts: Date.now(),
        seq: 0,
        ...(command.id ? { id: command.id } : {}),
        cmd: command.cmd,
        success: true,
      };
    }
    return {};
  };
  const listener = Bun.listen<{ conn: LineConnection }>({
    unix: socketPath,
    socket: {
      open(socket) {
        const c: LineConnection = new LineConnection(socket as Socket<unknown>, {
          maxLineBytes: 16 * 1024 * 1024,
          maxQueuedBytes: 256 * 1024 * 1024,
          onClose: () => {},
          onLine: (line) => {
            const frame = JSON.parse(line) as {
              type: string;
              id: string;
              method: string;
              params: Record<string, unknown>;
            };
            if (frame.type === "hello") {
              c.sendJson({
                type: "hello",
                protocol_version: PROTOCOL_VERSION,
                role: "runner",
                runner_id: "local",
                runner_version: "bench",
                user: "bench",
                uid: process.getuid?.() ?? 0,
                pid: process.pid,
                started_at: Date.now(),
                capabilities: {
                  harnesses: ["pi"],
                  pi_version: "bench",
                  sandbox: { enabled: false, backend: "none" },
                  history: { mode: "none" },
                  features: ["replay"],
                  max_sessions: 1000,
                  replay_buffer_events: 2048,
                },
              });
              conn = c;
              markConnected();
            } else if (frame.type === "request") {
              c.sendJson({
                type: "response",
                id: frame.id,
                ok: true,
                result: answer(frame.method, frame.params),
              });
            }
          },
        });
        socket.data = { conn: c };
      },
      data: (socket, data) => socket.data.conn.receive(data),
      drain: (socket) => socket.data.conn.flush(),
      close: (socket) => socket.data.conn.closedByPeer(),
    },
  });
  return { emit: (line) => conn?.send(line), connected, stop: () => listener.stop(true) };
}

/** A reader straight off a runner socket: the baseline without serve. */
async function directReader(socketPath: string, onLine: (line: string) => void): Promise<() => void> {
  const socket = await Bun.connect<{ conn: LineConnection }>({
    unix: socketPath,
    socket: {
      open(s) {
        s.data = {
          conn: new LineConnection(s as Socket<unknown>, {
            maxLineBytes: 16 * 1024 * 1024,
            maxQueuedBytes: 1024 * 1024,
            onLine,
            onClose: () => {},
          }),
        };
        s.data.conn.sendJson({
          type: "hello",
          protocol_version: PROTOCOL_VERSION,
          role: "server",
          server_version: "bench",
        });
      },
      data: (s, d) => s.data.conn.receive(d),
      drain: (s) => s.data.conn.flush(),
      close: (s) => s.data.conn.closedByPeer(),
    },
  });
  return () => socket.end();
}

// ---- measurement helpers ---------------------------------------------------------------------

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function eventLine(sessionId: string, seq: number): string {
  return encodeEventLine(
    { session_id: sessionId, seq, runner_id: "local", ts: Date.now(), event: "stream.text_delta" },
    { message_id: `${sessionId}#1`, delta: String(performance.now()), content_index: 0 },
  );
}

/** seq keeps growing across phases: the relay drops anything at or below what a socket has seen. */
let nextSeq = 1;

async function emitAll(runner: PlayedRunner, sessions: string[], paced: boolean): Promise<void> {
  for (let i = 0; i < EVENTS_PER_SESSION; i++) {
    const seq = nextSeq++;
    for (const sessionId of sessions) runner.emit(eventLine(sessionId, seq));
    if (paced) await Bun.sleep(PACE_MS);
    else if (seq % 50 === 0) await Bun.sleep(0);
  }
}

interface Measured {
  eventsPerS: number;
  p50: number;
  p99: number;
}

/** Emits through `runner`, collecting latencies via `subscribe`; resolves once all events arrived. */
async function measure(
  runner: PlayedRunner,
  sessions: string[],
  paced: boolean,
  subscribe: (onDelta: (delta: string) => void) => void,
): Promise<Measured> {
  const total = sessions.length * EVENTS_PER_SESSION;
  const latencies: number[] = [];
  let received = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => {
    done = r;
  });
  subscribe((delta) => {
    latencies.push(performance.now() - Number(delta));
    if (++received === total) done();
  });
  const start = performance.now();
  await emitAll(runner, sessions, paced);
  await Promise.race([finished, Bun.sleep(120_000)]);
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { eventsPerS: received / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** Opens a raw WebSocket subscribed to one session; text deltas go to `onDelta`. */
async function watchSession(
  wsUrl: string,
  token: string,
  sessionId: string,
  onDelta: (delta: string) => void,
): Promise<WebSocket> {
  const ws = new WebSocket(`${wsUrl}?token=${encodeURIComponent(token)}`);
  await new Promise<void>((resolve) => {
    ws.onmessage = (event) => {
      const frame = JSON.parse(String(event.data)) as { event?: string; id?: string; delta?: string };
      if (frame.event === "stream.text_delta") onDelta(frame.delta as string);
      else if (frame.id === "sub") resolve();
    };
    ws.onopen = () =>
      ws.send(
        JSON.stringify({ channel: "agent", id: "sub", session_id: sessionId, cmd: "session.subscribe" }),
      );
  });
  return ws;
}

// ---- the stack -------------------------------------------------------------------------------

async function startServe(root: string, socketPath: string) {
  const configFile = join(root, "config.toml");
  writeFileSync(
    configFile,
    `[server]\nport = 0\nworkspace_root = ${JSON.stringify(join(root, "ws"))}\n[runner]\nsupervise = false\nsocket = ${JSON.stringify(socketPath)}\n`,
  );
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: join(root, "home") };
  const base = [process.execPath, join(REPO, "src/cli/main.ts")];
  const flags = ["--config", configFile, "--data-dir", join(root, "data")];
  const add = Bun.spawn([...base, "user", "add", "bench", "--admin", "--password-stdin", ...flags], {
    env,
    stdin: new TextEncoder().encode("bench-password\n"),
  });
  if ((await add.exited) !== 0) throw new Error("user add failed");
  const serve = Bun.spawn([...base, "serve", ...flags], { env, stdout: "pipe", stderr: "ignore" });
  let out = "";
  const decoder = new TextDecoder();
  for await (const chunk of serve.stdout) {
    out += decoder.decode(chunk);
    if (/listening on (\S+)/.test(out)) break;
  }
  const url = /listening on (\S+)/.exec(out)?.[1] as string;
  const login = await fetch(`${url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "bench", password: "bench-password" }),
  });
  const { token } = (await login.json()) as { token: string };
  return { url, token, serve };
}

async function relayTable(): Promise<string[]> {
  const rows: string[] = [];
  for (const count of SESSION_COUNTS) {
    const root = mkdtempSync("/tmp/oqto-bench-");
    const socketPath = join(root, "runner.sock");
    const runner = playRunner(socketPath);
    const { url, token, serve } = await startServe(root, socketPath);
    await runner.connected;
    const wsUrl = `${url.replace("http", "ws")}/api/ws/mux`;
    // Sessions are created over one setup connection; each is then watched by its own browser-like
    // socket with a single handler, so the client side does the same work as the direct reader.
    const setup = await MuxClient.connect(wsUrl, token);
    const sessions: string[] = [];
    for (let i = 0; i < count; i++) {
      const sessionId = newSessionId();
      const res = await setup.command(sessionId, "session.create", {
        config: { harness: "pi", cwd: join(root, "ws") },
      });
      if (!res.success) throw new Error(`session.create failed: ${JSON.stringify(res)}`);
      sessions.push(sessionId);
    }
    setup.close();
    let onServeDelta: (delta: string) => void = () => {};
    const sockets = await Promise.all(
      sessions.map((sessionId) => watchSession(wsUrl, token, sessionId, (d) => onServeDelta(d))),
    );
    const viaServe = (paced: boolean) =>
      measure(runner, sessions, paced, (cb) => {
        onServeDelta = cb;
      });
    const servePaced = await viaServe(true);
    const serveFlat = await viaServe(false);
    for (const socket of sockets) socket.close();
    serve.kill("SIGTERM");
    await serve.exited;

    // Baseline: the same emitter, read straight off the runner socket.
    const direct = playRunner(`${socketPath}.direct`);
    let onDirect: (delta: string) => void = () => {};
    const stopReader = await directReader(`${socketPath}.direct`, (line) => {
      const frame = JSON.parse(line) as { event?: string; delta?: string };
      if (frame.event === "stream.text_delta") onDirect(frame.delta as string);
    });
    await direct.connected;
    const directMeasure = (paced: boolean) =>
      measure(direct, sessions, paced, (cb) => {
        onDirect = cb;
      });
    const directPaced = await directMeasure(true);
    const directFlat = await directMeasure(false);
    stopReader();
    direct.stop();
    runner.stop();
    rmSync(root, { recursive: true, force: true });

    rows.push(
      `| ${count} | ${Math.round(serveFlat.eventsPerS)} | ${Math.round(directFlat.eventsPerS)} | ${(serveFlat.eventsPerS / directFlat.eventsPerS).toFixed(2)} | ${servePaced.p50.toFixed(3)} / ${servePaced.p99.toFixed(3)} | ${directPaced.p50.toFixed(3)} / ${directPaced.p99.toFixed(3)} | ${(servePaced.p50 - directPaced.p50).toFixed(3)} / ${(servePaced.p99 - directPaced.p99).toFixed(3)} |`,
    );
  }
  return rows;
}

/** pi's start-to-ready on `runtime`, in a fresh home. */
async function piReadyOn(runtime: string[], cli: string): Promise<number> {
  const home = mkdtempSync("/tmp/oqto-bench-pi-");
  try {
    return await piReadyMs([...runtime, cli, ...PI_READY_ARGS], home, {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: home,
      PI_CODING_AGENT_DIR: join(home, "agent"),
    });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

async function piTable(): Promise<string[]> {
  const pi = resolvePi(ConfigSchema.parse({}));
  const runtimes: Array<[string, string[]]> = [["bun", [process.execPath]]];
  const node = Bun.which("node");
  if (node) runtimes.push(["node", [node]]);
  const rows: string[] = [];
  const medians: Record<string, number> = {};
  for (const [name, runtime] of runtimes) {
    await piReadyOn(runtime, pi.cli); // warm the file cache
    const runs: number[] = [];
    for (let i = 0; i < 5; i++) runs.push(await piReadyOn(runtime, pi.cli));
    runs.sort((a, b) => a - b);
    medians[name] = percentile(runs, 50);
    rows.push(
      `| ${name} | ${percentile(runs, 50).toFixed(0)} | ${(runs[0] as number).toFixed(0)} | ${(runs.at(-1) as number).toFixed(0)} |`,
    );
  }
  if (medians.node && medians.bun)
    rows.push(`| node / bun | ${(medians.node / medians.bun).toFixed(2)} | | |`);
  return rows;
}

const relay = await relayTable();
console.log(
  `\nRelay: ${EVENTS_PER_SESSION} text deltas per session; latency in ms (paced: one event per session every ${PACE_MS} ms)\n`,
);
console.log(
  "| sessions | events/s via serve | events/s direct | ratio | latency via serve p50 / p99 | direct p50 / p99 | added by serve p50 / p99 |",
);
console.log("|---|---|---|---|---|---|---|");
for (const row of relay) console.log(row);

const piRows = await piTable();
console.log("\npi start-to-ready (spawn to first get_state response), ms, 5 runs\n");
console.log("| runtime | median | min | max |");
console.log("|---|---|---|---|");
for (const row of piRows) console.log(row);
process.exit(0);
