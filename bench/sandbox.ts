/**
 * Sandbox start-up cost: how long `true` and a small Bun script take to start and exit, bare and
 * under bwrap with each built-in profile (the argv the runner builds, on a fixture home). The
 * sandbox must add under 50 ms; the exit code is 1 when any profile adds more.
 *
 *   bun bench/sandbox.ts [--runs 30]
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { buildSandboxedCommand } from "../src/runner/sandbox/argv-builder.ts";
import { detectBwrap } from "../src/runner/sandbox/detect.ts";
import { prepareSandboxDirs } from "../src/runner/sandbox/prepare.ts";
import { resolveEffectiveProfile } from "../src/runner/sandbox/profile-loader.ts";
import { BUILTIN_PROFILE_NAMES } from "../src/runner/sandbox/profile-schema.ts";
import { buildHome } from "../tests/sandbox/helpers.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "30" } } });
const RUNS = Number(values.runs);
const WARMUP = 3;
const BUDGET_MS = 50;

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Median wall time from spawn to exit; a failing run aborts the bench (it would measure an error). */
async function time(argv: string[], cwd: string): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const start = performance.now();
    const proc = Bun.spawn(argv, { cwd, stdout: "ignore", stderr: "pipe" });
    const code = await proc.exited;
    const elapsed = performance.now() - start;
    if (code !== 0)
      throw new Error(`${argv.join(" ")} exited ${code}: ${await new Response(proc.stderr).text()}`);
    if (i >= WARMUP) samples.push(elapsed);
  }
  return median(samples);
}

const root = mkdtempSync("/tmp/sbb-");
try {
  const bwrap = detectBwrap();
  const script = join(root, "hello.ts");
  writeFileSync(script, 'console.log("ready");\n');
  const commands: Record<string, string[]> = {
    true: ["/usr/bin/true"],
    "bun script": [process.execPath, script],
  };

  const bare: Record<string, number> = {};
  for (const [name, command] of Object.entries(commands)) bare[name] = await time(command, root);

  const rows: Array<{ profile: string; timings: Record<string, number> }> = [];
  for (const profileName of BUILTIN_PROFILE_NAMES) {
    const fx = buildHome(join(root, profileName, "home"), profileName);
    const profile = resolveEffectiveProfile({
      systemFile: fx.systemFile,
      workspacePath: fx.workspace,
      home: fx.home,
      multiUser: false,
    });
    prepareSandboxDirs({ profile, home: fx.home, workspace: fx.workspace });
    const timings: Record<string, number> = {};
    for (const [name, command] of Object.entries(commands)) {
      const argv = buildSandboxedCommand({
        profile,
        home: fx.home,
        workspace: fx.workspace,
        command,
        kind: "agent",
        extraRoBinds: [root],
      });
      timings[name] = await time(argv, fx.workspace);
    }
    rows.push({ profile: profileName, timings });
  }

  const cell = (text: string) => text.padStart(10);
  const ms = (value: number) => cell(value.toFixed(1));
  const names = Object.keys(commands);
  console.log(
    `bubblewrap ${bwrap.version}, median of ${RUNS} runs (after ${WARMUP} warm-up), milliseconds\n`,
  );
  console.log(`| profile     | ${names.map((n) => `${cell(n)} | ${cell("+ sandbox")}`).join(" | ")} |`);
  console.log(`|-------------|${names.map(() => "-----------:|-----------:").join("|")}|`);
  console.log(`| (no bwrap)  | ${names.map((n) => `${ms(bare[n] ?? 0)} | ${cell("-")}`).join(" | ")} |`);
  let worst = 0;
  for (const { profile, timings } of rows) {
    const cells = names.map((n) => {
      const added = (timings[n] ?? 0) - (bare[n] ?? 0);
      worst = Math.max(worst, added);
      return `${ms(timings[n] ?? 0)} | ${ms(added)}`;
    });
    console.log(`| ${profile.padEnd(11)} | ${cells.join(" | ")} |`);
  }
  const verdict = worst < BUDGET_MS ? "within" : "OVER";
  console.log(`\nworst added start-up: ${worst.toFixed(1)} ms (${verdict} the ${BUDGET_MS} ms budget)`);
  if (worst >= BUDGET_MS) process.exitCode = 1;
} finally {
  rmSync(root, { recursive: true, force: true });
}
