/** What tests read about Linux processes and do as another Linux user (as root). */
import { readFileSync } from "node:fs";
import { processesOf } from "../../src/privileged/linux-users.ts";

export interface Ids {
  uid: number;
  gid: number;
}

/** `/proc/<pid>/status` as fields ("Uid", "Groups", "CapEff", …). */
export function procStatus(pid: number): Record<string, string> {
  return Object.fromEntries(
    readFileSync(`/proc/${pid}/status`, "utf8")
      .split("\n")
      .map((line) => line.split(":\t") as [string, string])
      .filter((pair) => pair.length === 2),
  );
}

/** A process's argv, or [] when it is gone. */
export function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  } catch {
    return [];
  }
}

/** The user's processes that are `oqto runner`. */
export function runnersOf(uid: number): number[] {
  return processesOf(uid).filter((pid) => cmdline(pid).includes("runner"));
}

/** The user's `oqto runner`, `oqto hstry` and pi processes (not the bwrap around pi). */
export function census(uid: number): { runners: number; hstry: number; pi: number } {
  const argvs = processesOf(uid).map(cmdline);
  return {
    runners: argvs.filter((argv) => argv.includes("runner")).length,
    hstry: argvs.filter((argv) => argv.includes("hstry")).length,
    pi: argvs.filter((argv) => argv.includes("rpc") && !argv[0]?.endsWith("bwrap")).length,
  };
}

function asIds(ids: Ids, argv: string[]) {
  return Bun.spawnSync(
    ["setpriv", `--reuid=${ids.uid}`, `--regid=${ids.gid}`, "--init-groups", "--", ...argv],
    {
      stdout: "pipe",
      stderr: "pipe",
      cwd: "/",
    },
  );
}

/** Runs a bash script with these ids and their groups; its stdout and stderr together. */
export function bashAs(ids: Ids, script: string): string {
  return asIds(ids, ["bash", "-c", `exec 2>&1; ${script}`]).stdout.toString();
}

/** Connects to a unix socket with these ids (a separate process): "ok" or the error code. */
export function connectAs(ids: Ids, socket: string): string {
  const script = `const s = await Bun.connect({ unix: ${JSON.stringify(socket)}, socket: { data() {} } }).then(() => "ok", (e) => e.code ?? String(e)); console.log(s); process.exit(0);`;
  const run = asIds(ids, [process.execPath, "-e", script]);
  return run.stdout.toString().trim() || run.stderr.toString().trim();
}

/** A Linux user's uid, or null when there is no such user. */
export function uidOfUser(name: string): number | null {
  const result = Bun.spawnSync(["id", "-u", name], { stdout: "pipe", stderr: "ignore" });
  return result.exitCode === 0 ? Number(result.stdout.toString().trim()) : null;
}

/** Ends a test user's processes, then removes the user, its group and home; a no-op when absent or root. */
export async function removeLinuxUser(name: string): Promise<void> {
  const uid = uidOfUser(name);
  if (uid === null || uid === 0) return;
  for (let round = 0; round < 40 && processesOf(uid).length > 0; round++) {
    for (const pid of processesOf(uid)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone since the listing
      }
    }
    await Bun.sleep(50);
  }
  Bun.spawnSync(["userdel", "--remove", name], { stdout: "ignore", stderr: "ignore" });
  Bun.spawnSync(["groupdel", name], { stdout: "ignore", stderr: "ignore" });
}
