import { statSync } from "node:fs";
import { buildTime } from "./build-time.ts" with { type: "macro" };
import { type DoctorCheck, fail, ok, warn } from "./check.ts";
import type { DoctorHost } from "./host.ts";
import { underSystemd } from "./service.ts";

/** When this binary was built (run from source: when the source was loaded, so not used then). */
const BUILT_AT = buildTime();
const SET_CLOCK = "timedatectl set-ntp true, or set it by hand: date -u -s 'YYYY-MM-DD HH:MM:SS'";

/**
 * A time the clock cannot be behind: the binary's build time, or, from source, when the entry file
 * was last written.
 */
function referenceTime(host: DoctorHost): { at: Date; what: string } {
  const [, entry] = host.options.self;
  if (entry === undefined) return { at: new Date(BUILT_AT), what: "this binary's build time" };
  return { at: statSync(entry).mtime, what: `the last change of ${entry}` };
}

function ntpSynchronized(): string | undefined {
  if (Bun.which("timedatectl") === null) return undefined;
  const run = Bun.spawnSync(["timedatectl", "show", "--property=NTPSynchronized", "--value"], {
    stdout: "pipe",
    stderr: "ignore",
    timeout: 5_000,
  });
  return run.success ? run.stdout.toString().trim() : undefined;
}

/** Tokens expire by the clock and backups age by it: a clock behind the build is plainly wrong. */
export function checkClock(host: DoctorHost, now = new Date()): DoctorCheck {
  const reference = referenceTime(host);
  if (now.getTime() < reference.at.getTime()) {
    return fail(
      "clock",
      `the system clock (${now.toISOString()}) is behind ${reference.what} (${reference.at.toISOString()}): sign-in tokens and backup ages are wrong`,
      SET_CLOCK,
    );
  }
  const detail = `${now.toISOString()}, after ${reference.what} (${reference.at.toISOString()})`;
  if (!underSystemd()) return ok("clock", `${detail}; NTP state not checked (timedatectl needs systemd)`);
  const synchronized = ntpSynchronized();
  if (synchronized === "no") {
    return warn(
      "clock",
      `${detail}; timedatectl says it is not NTP-synchronized`,
      "timedatectl set-ntp true",
    );
  }
  if (synchronized === "yes") return ok("clock", `${detail}; NTP-synchronized`);
  return ok("clock", `${detail}; NTP state unknown (timedatectl did not answer)`);
}
