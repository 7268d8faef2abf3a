/**
 * Idle memory: PSS of serve, its runner and the history service with no session open, for the
 * compiled binary and for a run from source, beside the floor: the same number of bare compiled Bun
 * processes (a timer and nothing else), so the table shows what Oqto's code adds to Bun's own cost.
 * pi's warm spares are left out (pool size 0): they are pi's memory, reported by bench/streaming.ts.
 *
 *   bun bench/idle-memory.ts [--settle-s 15] [--rounds 3]
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { startStack } from "../tests/helpers/stack.ts";
import { pssByRole, pssKb, rolesUnder } from "./process-tree.ts";

const REPO = resolve(import.meta.dir, "..");
const BINARY = join(REPO, "dist/oqto");
const { values } = parseArgs({
  options: { "settle-s": { type: "string", default: "15" }, rounds: { type: "string", default: "3" } },
});
const SETTLE_MS = Number(values["settle-s"]) * 1000;
const ROUNDS = Number(values.rounds);

type RoleMb = { serve: number; runner: number; history: number };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** Median over ROUNDS reads, a second apart, after the processes have settled (start-up garbage collected). */
async function settledPss(read: () => Promise<RoleMb>): Promise<RoleMb> {
  await Bun.sleep(SETTLE_MS);
  const reads: RoleMb[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    reads.push(await read());
    await Bun.sleep(1000);
  }
  return {
    serve: median(reads.map((r) => r.serve)),
    runner: median(reads.map((r) => r.runner)),
    history: median(reads.map((r) => r.history)),
  };
}

async function stackPss(binary: string | undefined): Promise<RoleMb> {
  // The test stack runs without warm spares (pool_size = 0) unless asked.
  const stack = await startStack(binary ? { binary } : {});
  try {
    return await settledPss(async () => {
      const { serve, runner, history } = await pssByRole(rolesUnder(stack.serve.pid));
      return { serve, runner, history };
    });
  } finally {
    await stack.stop();
  }
}

/** Three bare compiled Bun processes, built here: Bun's own share of every role above. */
async function floorPss(): Promise<RoleMb> {
  const dir = mkdtempSync("/tmp/oqto-idle-floor-");
  try {
    const source = join(dir, "idle.ts");
    writeFileSync(source, "setInterval(() => {}, 1000);\n");
    const build = Bun.spawnSync(["bun", "build", "--compile", source, "--outfile", join(dir, "idle")]);
    if (build.exitCode !== 0) throw new Error(`cannot build the floor process: ${build.stderr}`);
    const procs = [0, 1, 2].map(() => Bun.spawn([join(dir, "idle")], { stdout: "ignore", stderr: "ignore" }));
    try {
      return await settledPss(async () => {
        const kb = await pssKb(procs.map((p) => p.pid));
        const mb = (i: number) => (kb.get(procs[i]?.pid ?? 0) ?? 0) / 1024;
        return { serve: mb(0), runner: mb(1), history: mb(2) };
      });
    } finally {
      for (const proc of procs) proc.kill();
      await Promise.all(procs.map((p) => p.exited));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (!(await Bun.file(BINARY).exists())) {
  const build = Bun.spawnSync(["bun", "run", "build"], { cwd: REPO, stdout: "inherit", stderr: "inherit" });
  if (build.exitCode !== 0) throw new Error("bun run build failed");
}
const binary = await stackPss(BINARY);
const source = await stackPss(undefined);
const floor = await floorPss();
const total = (r: RoleMb) => r.serve + r.runner + r.history;

console.log(
  `\nIdle PSS, MB (median of ${ROUNDS} reads after ${SETTLE_MS / 1000} s; no session, no warm spares)\n`,
);
console.log("| role | binary (dist/oqto) | from source | bare Bun process | binary / bare |");
console.log("|---|---:|---:|---:|---:|");
for (const role of ["serve", "runner", "history"] as const) {
  console.log(
    `| ${role} | ${binary[role].toFixed(1)} | ${source[role].toFixed(1)} | ${floor[role].toFixed(1)} | ${(binary[role] / floor[role]).toFixed(2)} |`,
  );
}
console.log(
  `| **total** | **${total(binary).toFixed(1)}** | ${total(source).toFixed(1)} | ${total(floor).toFixed(1)} | ${(total(binary) / total(floor)).toFixed(2)} |`,
);
