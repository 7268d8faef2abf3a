/**
 * Resident memory of live processes, read from /proc/<pid>/status (VmRSS) on a timer while a
 * transfer runs: the tests and benchmarks that promise bounded memory measure it this way.
 */
import { readdirSync, readFileSync } from "node:fs";

export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}

/** The `oqto runner` process serve started (its direct child, also when started through setpriv). */
export function runnerPidOf(servePid: number): number {
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (ppid === servePid && argv.includes("runner")) return pid;
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`no runner process under serve (pid ${servePid})`);
}

export interface RssSampler {
  /** Stops sampling; per pid the RSS when sampling started and the highest seen, in bytes. */
  stop(): Map<number, { start: number; peak: number }>;
}

export function sampleRss(pids: number[], intervalMs = 50): RssSampler {
  const seen = new Map(pids.map((pid) => [pid, { start: rssBytes(pid), peak: rssBytes(pid) }]));
  const sample = () => {
    for (const [pid, entry] of seen) entry.peak = Math.max(entry.peak, rssBytes(pid));
  };
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return seen;
    },
  };
}
