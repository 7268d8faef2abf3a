/**
 * serve's process tree read from /proc for the benchmarks: roles (serve, runner, history, pi), CPU
 * ticks and PSS per role.
 */
import { readdirSync, readFileSync } from "node:fs";

export const CLK_TCK = (() => {
  const out = Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim();
  return Number(out) > 0 ? Number(out) : 100;
})();

/** ppid and utime+stime (ticks) of a process, or undefined when it is gone. */
export function procStat(pid: number): { ppid: number; ticks: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name is in parentheses and may hold spaces: the fields start after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

export function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  } catch {
    return [];
  }
}

export interface Roles {
  serve: number[];
  runner: number[];
  history: number[];
  /** pi and what wraps it (bwrap, when the sandbox is on): every other process under the runner. */
  pi: number[];
}
export const ROLE_NAMES = ["pi", "runner", "serve", "history"] as const;

/** serve's process tree, by role. */
export function rolesUnder(servePid: number): Roles {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const stat = procStat(pid);
    if (!stat) continue;
    children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), pid]);
  }
  const roles: Roles = { serve: [servePid], runner: [], history: [], pi: [] };
  const walk = (pid: number, role: keyof Roles | undefined) => {
    for (const child of children.get(pid) ?? []) {
      const argv = cmdline(child);
      let childRole = role;
      if (argv.includes("hstry")) childRole = "history";
      else if (argv.includes("runner") && role === undefined) childRole = "runner";
      else if (role === "runner") childRole = "pi";
      if (childRole) roles[childRole].push(child);
      walk(child, childRole);
    }
  };
  walk(servePid, undefined);
  return roles;
}

/** The machine's busy and steal ticks, all cores summed (/proc/stat, first line). */
export function machineTicks(): { busy: number; steal: number } {
  const fields = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "")
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return { busy: user + nice + system + irq + softirq + steal, steal };
}

export function ticksOf(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + (procStat(pid)?.ticks ?? 0), 0);
}

/**
 * PSS in kB per pid, read by a `cat` child so that this process's event loop (the fake LLM and the
 * client) is not blocked while the kernel walks page tables.
 */
export async function pssKb(pids: number[]): Promise<Map<number, number>> {
  const result = new Map<number, number>();
  if (pids.length === 0) return result;
  const script = pids.map((pid) => `echo "#${pid}"; cat /proc/${pid}/smaps_rollup 2>/dev/null`).join("; ");
  const proc = Bun.spawn(["sh", "-c", script], { stdout: "pipe", stderr: "ignore" });
  const text = await new Response(proc.stdout).text();
  await proc.exited;
  let current = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) current = Number(line.slice(1));
    else if (line.startsWith("Pss:")) result.set(current, Number.parseInt(line.slice(4), 10));
  }
  return result;
}

export async function pssByRole(roles: Roles): Promise<Record<keyof Roles, number>> {
  const all = [...roles.serve, ...roles.runner, ...roles.history, ...roles.pi];
  const kb = await pssKb(all);
  const sum = (pids: number[]) => pids.reduce((s, pid) => s + (kb.get(pid) ?? 0), 0) / 1024;
  return {
    serve: sum(roles.serve),
    runner: sum(roles.runner),
    history: sum(roles.history),
    pi: sum(roles.pi),
  };
}
