import { mkdtempSync, rmSync } from "node:fs";
import { checkBackup } from "./backup.ts";
import type { DoctorCheck } from "./check.ts";
import { checkClock } from "./clock.ts";
import { checkConfig } from "./config.ts";
import { checkDataDir, checkDisk, checkEtcDir } from "./filesystem.ts";
import { type DoctorOptions, resolveHost } from "./host.ts";
import { checkEavs, checkHstry, checkPort } from "./network.ts";
import { checkProviderKeys } from "./provider-keys.ts";
import { checkBun, checkPi } from "./runtime.ts";
import { checkRuntimeDir } from "./runtime-dir.ts";
import {
  bwrapMissing,
  checkBwrap,
  checkSandboxEnabled,
  checkSandboxFile,
  checkUserNamespaces,
} from "./sandbox.ts";
import { checkServiceUser, checkSystemd } from "./service.ts";

/**
 * Every check, in dependency order: the config decides the mode, and the mode which paths and
 * users the rest look at. Nothing outside a scratch dir (removed again) is written.
 */
export async function runDoctorChecks(options: DoctorOptions): Promise<DoctorCheck[]> {
  const config = checkConfig(options);
  const host = resolveHost(options, config.config);
  const scratch = mkdtempSync("/tmp/oqto-doctor-");
  try {
    const results: DoctorCheck[] = [config.result];
    const sandbox = checkSandboxFile(host, scratch);
    results.push(sandbox.result);
    if (sandbox.profile) results.push(checkSandboxEnabled(sandbox.profile, host.sandboxFile));
    // An unreadable global file keeps the sandbox on: nothing starts unsandboxed (fail closed).
    const bwrap = checkBwrap(options.path, sandbox.profile?.enabled ?? true);
    results.push(bwrap.result);
    results.push(
      bwrap.bwrap ? checkUserNamespaces(host, scratch, bwrap.bwrap, sandbox.profile) : bwrapMissing(),
    );
    const pi = checkPi(host.config);
    results.push(pi.result, checkBun(host, pi.pi));
    results.push(...(await Promise.all([checkPort(host), checkHstry(host), checkEavs(host)])));
    results.push(checkServiceUser(host), checkDataDir(host), checkEtcDir(host), checkRuntimeDir(host));
    results.push(checkDisk(host), checkSystemd(host), checkClock(host), checkBackup(host));
    results.push(checkProviderKeys(host.dataDir, options.env));
    return results;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
