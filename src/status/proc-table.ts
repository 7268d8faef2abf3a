import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";

/** One process as /proc shows it to this user. */
export interface ProcEntry {
  pid: number;
  ppid: number;
  /** Real uid. */
  uid: number;
  argv: string[];
  /** Milliseconds since the epoch. */
  startedAt: number;
}

/** Clock ticks per second of /proc/<pid>/stat's start time (`getconf CLK_TCK`, 100 on every Linux port but a few). */
function clockTicks(): number {
  const run = Bun.spawnSync(["getconf", "CLK_TCK"], { stdout: "pipe", stderr: "ignore" });
  const ticks = Number(run.stdout.toString().trim());
  if (!run.success || !Number.isInteger(ticks) || ticks <= 0)
    throw new Error("getconf CLK_TCK did not answer: cannot tell how long processes have run");
  return ticks;
}

function bootTimeMs(procDir: string): number {
  const line = readFileSync(join(procDir, "stat"), "utf8")
    .split("\n")
    .find((entry) => entry.startsWith("btime "));
  if (!line) throw new Error(`${procDir}/stat has no btime line`);
  return Number(line.slice("btime ".length)) * 1000;
}

function readEntry(procDir: string, pid: number, bootMs: number, ticks: number): ProcEntry | undefined {
  try {
    const dir = join(procDir, String(pid));
    const argv = readFileSync(join(dir, "cmdline"), "utf8").split("\0");
    if (argv.at(-1) === "") argv.pop();
    // A kernel thread or a zombie has no argv: nothing of Oqto's.
    if (argv.length === 0) return undefined;
    // The command name may hold spaces and parentheses: fields are counted after the last ')'.
    const stat = readFileSync(join(dir, "stat"), "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const uidLine = readFileSync(join(dir, "status"), "utf8")
      .split("\n")
      .find((line) => line.startsWith("Uid:"));
    return {
      pid,
      // Fields 4 (ppid) and 22 (starttime) of proc(5); the slice starts at field 3.
      ppid: Number(fields[1]),
      uid: Number(uidLine?.split(/\s+/)[1]),
      argv,
      startedAt: bootMs + (Number(fields[19]) / ticks) * 1000,
    };
  } catch {
    return undefined; // it ended while we looked
  }
}

/** Every process with an argv, as far as this user may see. */
export function readProcTable(procDir = "/proc"): ProcEntry[] {
  const bootMs = bootTimeMs(procDir);
  const ticks = clockTicks();
  return readdirSync(procDir)
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readEntry(procDir, Number(name), bootMs, ticks))
    .filter((entry): entry is ProcEntry => entry !== undefined);
}

/** A path from a process's argv, absolute: a relative one is taken from its working directory when readable. */
export function absoluteFor(pid: number, path: string, procDir = "/proc"): string {
  if (isAbsolute(path)) return resolve(path);
  try {
    return resolve(readlinkSync(join(procDir, String(pid), "cwd")), path);
  } catch {
    return path;
  }
}
