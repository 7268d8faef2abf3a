import { lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { lookupAccount } from "../shared/linux-account.ts";
import { type DoctorCheck, fail, notChecked, octalMode, ok } from "./check.ts";
import { userName } from "./filesystem.ts";
import type { DoctorHost } from "./host.ts";

interface Expected {
  path: string;
  uid: number;
  gid: number;
  mode: number;
  /** Who may enter, in words, for the detail. */
  why: string;
}

/**
 * What one entry of the layout should be (ARCHITECTURE.md "Multi-user mode"); a missing entry is
 * fine (made at start or at a runner's launch), anything else differing is a fail with the fix.
 */
function inspect(expected: Expected): { detail: string; fix: string } | undefined {
  const stat = lstatSync(expected.path, { throwIfNoEntry: false });
  if (!stat) return undefined;
  if (!stat.isDirectory()) {
    return {
      detail: `${expected.path} is not a directory`,
      fix: `rm ${expected.path} (it is made again at start)`,
    };
  }
  const mode = stat.mode & 0o7777;
  if (stat.uid === expected.uid && stat.gid === expected.gid && mode === expected.mode) return undefined;
  return {
    detail: `${expected.path} is ${stat.uid}:${stat.gid} (${userName(stat.uid)}) mode ${octalMode(mode)}, expected ${expected.uid}:${expected.gid} mode ${octalMode(expected.mode)} (${expected.why})`,
    fix: `chown ${expected.uid}:${expected.gid} ${expected.path} && chmod ${octalMode(expected.mode)} ${expected.path}`,
  };
}

/** `runners/<user>/`, one per user whose runner was ever started: owner that user, group the server's. */
function runnerDirs(runners: string, serverGid: number): Expected[] {
  let names: string[];
  try {
    names = readdirSync(runners);
  } catch {
    return [];
  }
  return names.map((name) => {
    let uid = -1;
    try {
      uid = lookupAccount(name).uid;
    } catch {
      // no such account: any owner is wrong, and the expectation names the directory
    }
    return {
      path: join(runners, name),
      uid,
      gid: serverGid,
      mode: 0o2750,
      why: `${name} and the web server only`,
    };
  });
}

/** The multi-user runtime dir (`[multi_user] runtime_dir`): who may reach the helper and each runner. */
export function checkRuntimeDir(host: DoctorHost): DoctorCheck {
  if (!host.config)
    return notChecked("runtime-dir", "the config did not load", "fix the config, then run oqto doctor again");
  if (!host.multiUser) return ok("runtime-dir", "single-user mode: the runner's socket is in the data dir");
  const root = host.config.multi_user.runtime_dir;
  if (!lstatSync(root, { throwIfNoEntry: false })) {
    return ok("runtime-dir", `${root} not created yet; serve --multi-user makes it at start`);
  }
  const service = host.serviceAccount;
  if (!service)
    return notChecked("runtime-dir", "the service user does not exist", "see the service-user check");
  const expected: Expected[] = [
    { path: root, uid: 0, gid: 0, mode: 0o755, why: "root's" },
    {
      path: join(root, "server"),
      uid: service.uid,
      gid: service.gid,
      mode: 0o700,
      why: "the web server only: the helper's socket",
    },
    {
      path: join(root, "runners"),
      uid: 0,
      gid: 0,
      mode: 0o711,
      why: "each user may pass to its own dir, not list the others",
    },
    { path: join(root, "helper"), uid: 0, gid: 0, mode: 0o700, why: "root only: the runners' pid files" },
    ...runnerDirs(join(root, "runners"), service.gid),
  ];
  const problems = expected.flatMap((entry) => inspect(entry) ?? []);
  if (problems.length === 0) {
    return ok("runtime-dir", `${root}: server/, runners/ and helper/ as documented`);
  }
  return fail(
    "runtime-dir",
    problems.map((problem) => problem.detail).join("; "),
    `${problems.map((problem) => problem.fix).join(" && ")} (serve --multi-user also resets server/, runners/ and helper/ at start)`,
  );
}
