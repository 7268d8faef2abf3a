import type { Config } from "../config/schema.ts";
import { type ResolvedPi, resolvePi } from "../runner/pi-install.ts";
import { PINNED_PI_VERSION } from "../shared/pinned-pi.ts";
import { type DoctorCheck, errorMessage, fail, notChecked, ok, warn } from "./check.ts";
import type { DoctorHost } from "./host.ts";

const REINSTALL_PI = "run install.sh again (it installs the pinned pi beside the oqto binary)";
const VERSION_TIMEOUT_MS = 5_000;

export function checkPi(config: Config | undefined): { result: DoctorCheck; pi?: ResolvedPi } {
  if (!config) {
    return {
      result: notChecked("pi", "the config did not load", "fix the config, then run oqto doctor again"),
    };
  }
  let pi: ResolvedPi;
  try {
    pi = resolvePi(config);
  } catch (error) {
    return {
      result: fail(
        "pi",
        errorMessage(error),
        "run install.sh, or set pi.cli in the config (or OQTO_PI_CLI) to pi's dist/cli.js",
      ),
    };
  }
  const where = `${pi.cli}, run by ${pi.runtime}`;
  // Only an exact pin can be compared; a range in package.json says nothing about one version.
  if (/^\d+\.\d+\.\d+$/.test(PINNED_PI_VERSION) && pi.version !== PINNED_PI_VERSION) {
    return {
      result: warn(
        "pi",
        `pi ${pi.version} (${where}), but this oqto was built for pi ${PINNED_PI_VERSION}: its RPC front end may not fit`,
        config.pi.cli ? `point pi.cli at pi ${PINNED_PI_VERSION}, or ${REINSTALL_PI}` : REINSTALL_PI,
      ),
      pi,
    };
  }
  return { result: ok("pi", `pi ${pi.version} (${where}), the version this oqto was built for`), pi };
}

/**
 * The Bun that runs oqto (embedded in the compiled binary, or the one running the source) and the
 * one that runs pi. Without a bun on PATH, pi runs under the oqto binary with BUN_BE_BUN=1, which
 * every process pi starts inherits (PI-RPC.md gotcha 12): it works, but a plain bun is better.
 */
export function checkBun(host: DoctorHost, pi: ResolvedPi | undefined): DoctorCheck {
  const compiled = host.options.self.length === 1;
  const own = compiled
    ? `Bun ${Bun.version} embedded in ${process.execPath}`
    : `Bun ${Bun.version} (${process.execPath}) runs oqto from source`;
  if (!pi) return ok("bun", `${own}; pi's runtime not checked (see the pi check)`);
  if (pi.env.BUN_BE_BUN === "1") {
    return warn(
      "bun",
      `${own}; no bun on PATH, so pi runs under this binary with BUN_BE_BUN=1, which every process pi starts inherits`,
      "install Bun on the PATH oqto runs with (install.sh does: npm install -g bun), or set pi.runtime to a bun binary",
    );
  }
  const run = Bun.spawnSync([pi.runtime, "--version"], {
    stdout: "pipe",
    stderr: "pipe",
    env: {},
    timeout: VERSION_TIMEOUT_MS,
  });
  const version = run.stdout?.toString().trim() ?? "";
  if (!run.success || !/^\d+\.\d+\.\d+/.test(version)) {
    return fail(
      "bun",
      `${own}; pi's runtime ${pi.runtime} does not answer --version (exit code ${run.exitCode})`,
      "reinstall Bun (npm install -g bun), or set pi.runtime in the config to a working bun",
    );
  }
  return ok("bun", `${own}; pi runs under bun ${version} (${pi.runtime})`);
}
