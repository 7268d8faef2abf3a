import { mkdirSync } from "node:fs";
import type { EffectiveProfile } from "./effective-profile.ts";
import { isInside, normalizeAbsolute } from "./paths.ts";
import { scopedPathTarget } from "./scoped-paths.ts";

/**
 * Creates, as the runner's user and mode 0700, the writable places a profile grants under the
 * home that do not exist yet: a bind target cannot be created under a read-only mount, and a
 * directory pi created inside a scoped path's tmpfs would vanish with the sandbox. Returns the
 * directories it created. Call before buildSandboxedCommand.
 */
export function prepareSandboxDirs(options: {
  profile: EffectiveProfile;
  home: string;
  workspace: string;
}): string[] {
  const { profile } = options;
  if (!profile.enabled) return [];
  const home = normalizeAbsolute(options.home);
  const wanted: string[] = [];
  wanted.push(...profile.allow_write.filter((path) => path !== home && isInside(path, home)));
  for (const rule of profile.scoped_paths) {
    const target = scopedPathTarget(rule, normalizeAbsolute(options.workspace));
    if (rule.access === "rw" && isInside(target, home)) wanted.push(target);
  }
  const created: string[] = [];
  for (const path of wanted) {
    if (profile.deny_read.some((hidden) => isInside(path, hidden))) continue;
    const first = mkdirSync(path, { recursive: true, mode: 0o700 });
    if (first !== undefined) created.push(path);
  }
  return created;
}
