/**
 * Sandbox start-up cost: how long `true` and a small Bun script take to start and exit, and how
 * long pi takes from spawn to its first RPC answer, bare and under bwrap with each built-in
 * profile (what the runner's agentSandbox launches, on a fixture home: the LLM token and private
 * pi dir of every launch, and under strict its LLM bridge and `oqto sandbox-shim`). The sandbox
 * must add under 50 ms; the exit code is 1 when any profile adds more.
 *
 *   bun bench/sandbox.ts [--runs 30]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ConfigSchema } from "../src/config/schema.ts";
import { LLM_TOKEN_ENV } from "../src/protocol/llm.ts";
import { LlmTokens } from "../src/runner/llm/llm-tokens.ts";
import { resolvePi } from "../src/runner/pi-install.ts";
import { detectBwrap } from "../src/runner/sandbox/detect.ts";
import { BUILTIN_PROFILE_NAMES } from "../src/runner/sandbox/profile-schema.ts";
import { WorkspaceProfiles } from "../src/runner/sandbox/workspace-profiles.ts";
import { WorkspaceSandbox } from "../src/runner/sandbox/workspace-sandbox.ts";
import { agentSandbox } from "../src/runner/sandbox/wrap.ts";
import { buildHome, put } from "../tests/sandbox/helpers.ts";
import { PI_READY_ARGS, piReadyMs } from "./pi-ready.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "30" } } });
const RUNS = Number(values.runs);
const WARMUP = 3;
const BUDGET_MS = 50;

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Spawn to exit; a failing run aborts the bench (it would measure an error). */
async function runToExit(argv: string[], cwd: string, env: Record<string, string>): Promise<number> {
  const start = performance.now();
  const proc = Bun.spawn(argv, { cwd, env, stdout: "ignore", stderr: "pipe" });
  const code = await proc.exited;
  const elapsed = performance.now() - start;
  if (code !== 0)
    throw new Error(`${argv.join(" ")} exited ${code}: ${await new Response(proc.stderr).text()}`);
  return elapsed;
}

type Measure = (argv: string[], cwd: string, env: Record<string, string>) => Promise<number>;

/** How one configuration (bare, or a profile) starts a command: a fresh launch per run, as the runner does. */
interface Setup {
  name: string;
  cwd: string;
  env: Record<string, string>;
  launch: (command: string[]) => { argv: string[]; env: Record<string, string>; release: () => void };
}

/**
 * Medians per setup, with the setups' runs interleaved (bare, minimal, development, strict, bare, …)
 * so that load from elsewhere on the machine falls on all of them alike.
 */
async function timeInterleaved(setups: Setup[], command: string[], measure: Measure): Promise<number[][]> {
  const samples: number[][] = setups.map(() => []);
  for (let i = 0; i < WARMUP + RUNS; i++) {
    for (const [index, setup] of setups.entries()) {
      const { argv, env, release } = setup.launch(command);
      try {
        const elapsed = await measure(argv, setup.cwd, { ...setup.env, ...env });
        if (i >= WARMUP) samples[index]?.push(elapsed);
      } finally {
        release();
      }
    }
  }
  return samples;
}

const root = mkdtempSync("/tmp/sbb-");
try {
  const bwrap = detectBwrap();
  // Its own dir: binding `root` itself would lay a read-only copy over the fixture homes below it.
  const scripts = join(root, "scripts");
  const script = join(scripts, "hello.ts");
  put(script, 'console.log("ready");\n');
  const pi = resolvePi(ConfigSchema.parse({}));
  const piModules = pi.cli.slice(0, pi.cli.indexOf("/node_modules/") + "/node_modules".length);
  const commands: Record<string, { command: string[]; measure: Measure }> = {
    true: { command: ["/usr/bin/true"], measure: runToExit },
    "bun script": { command: [process.execPath, script], measure: runToExit },
    "pi ready": {
      command: [pi.runtime, pi.cli, ...PI_READY_ARGS],
      measure: piReadyMs,
    },
  };
  /** Oqto's pi config in the runner's state (its data dir), as `models.write` leaves it. */
  const piConfigFor = (dataDir: string) => {
    const dir = join(dataDir, "runner", "pi");
    put(join(dir, "models.json"), `{"providers": {}}\n`);
    return dir;
  };
  const envFor = (home: string) => ({ PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, ...pi.env });
  // As the runner's: a token per launch, registered with no server (the bench makes no LLM call).
  const llmTokens = new LlmTokens(() => {});
  const bareHome = buildHome(join(root, "bare", "home"), "development");
  const setups: Setup[] = [
    {
      name: "(no bwrap)",
      cwd: bareHome.workspace,
      env: { ...envFor(bareHome.home), PI_CODING_AGENT_DIR: piConfigFor(bareHome.dataDir) },
      // What the runner does with the sandbox disabled: the command as it is, with its own token.
      launch: (command) => {
        const { token, release } = llmTokens.mint("bench");
        return { argv: command, env: { [LLM_TOKEN_ENV]: token }, release };
      },
    },
  ];
  for (const profileName of BUILTIN_PROFILE_NAMES) {
    const fx = buildHome(join(root, profileName, "home"), profileName);
    const state = join(fx.dataDir, "runner");
    const wrap = agentSandbox({
      sandbox: new WorkspaceSandbox({
        systemFile: fx.systemFile,
        home: fx.home,
        multiUser: false,
        choices: new WorkspaceProfiles(join(state, "workspace-profiles.json")),
      }),
      home: fx.home,
      workspaceRoot: fx.workspaceRoot,
      hiddenPaths: [fx.dataDir],
      extraRoBinds: [scripts, piModules],
      agent: {
        root: join(state, "agents"),
        piConfigDir: piConfigFor(fx.dataDir),
        mintLlmToken: (sessionId) => llmTokens.mint(sessionId),
        sessionDirFor: (_cwd, { sessionId }) => join(state, "sessions", sessionId),
        shimCommand: [process.execPath, join(import.meta.dir, "../src/cli/main.ts"), "sandbox-shim"],
        shimPaths: [join(import.meta.dir, "../src")],
        cacheRoot: join(state, "cache"),
        log: (message) => console.error(message),
      },
    });
    setups.push({
      name: profileName,
      cwd: fx.workspace,
      env: envFor(fx.home),
      launch: (command) => wrap(fx.workspace, command, { sessionId: "bench" }),
    });
  }
  const timings: Record<string, number[][]> = {};
  for (const [name, { command, measure }] of Object.entries(commands)) {
    timings[name] = await timeInterleaved(setups, command, measure);
  }

  const cell = (text: string) => text.padStart(10);
  const ms = (value: number) => cell(value.toFixed(1));
  const names = Object.keys(commands);
  console.log(
    `bubblewrap ${bwrap.version}, median of ${RUNS} interleaved runs (after ${WARMUP} warm-up), milliseconds; "+ sandbox" is the median of each run minus the bare run of its round\n`,
  );
  console.log(`| profile     | ${names.map((n) => `${cell(n)} | ${cell("+ sandbox")}`).join(" | ")} |`);
  console.log(`|-------------|${names.map(() => "-----------:|-----------:").join("|")}|`);
  let worst = 0;
  for (const [index, setup] of setups.entries()) {
    const cells = names.map((n) => {
      const own = timings[n]?.[index] ?? [];
      const value = median(own);
      if (index === 0) return `${ms(value)} | ${cell("-")}`;
      // Paired: each run against the bare run of the same round, so drift on the machine cancels out.
      const bare = timings[n]?.[0] ?? [];
      const added = median(own.map((sample, round) => sample - (bare[round] ?? 0)));
      worst = Math.max(worst, added);
      return `${ms(value)} | ${ms(added)}`;
    });
    console.log(`| ${setup.name.padEnd(11)} | ${cells.join(" | ")} |`);
  }
  const verdict = worst < BUDGET_MS ? "within" : "OVER";
  console.log(`\nworst added start-up: ${worst.toFixed(1)} ms (${verdict} the ${BUDGET_MS} ms budget)`);
  if (worst >= BUDGET_MS) process.exitCode = 1;
} finally {
  rmSync(root, { recursive: true, force: true });
}
