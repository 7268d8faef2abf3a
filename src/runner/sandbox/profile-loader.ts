import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute } from "node:path";
import type { z } from "zod";
import { ProtocolError } from "../../protocol/common.ts";
import { BUILTIN_PROFILE_SOURCES, builtinProfileFile } from "./builtin-profiles.ts";
import type { EffectiveProfile, SandboxPolicy } from "./effective-profile.ts";
import { mergePolicies } from "./merge.ts";
import { expandProfilePath, normalizeAbsolute } from "./paths.ts";
import {
  BUILTIN_PROFILE_NAMES,
  type BuiltinProfileName,
  ProfileSchema,
  type ProfileSpec,
  type SandboxFile,
  SandboxFileSchema,
} from "./profile-schema.ts";

/** Written to the single-user system file at first start so that it always exists (§1). */
const DEFAULT_SYSTEM_FILE = `# Oqto sandbox settings (see SANDBOX.md). Built-in profiles: minimal, development, strict.
enabled = true
profile = "development"
`;

export interface SandboxIssue {
  key: string;
  why: string;
}

/** The error every sandbox load problem becomes: "<file>: <key>: <why>". */
function sandboxLoadError(file: string, issues: SandboxIssue[]): ProtocolError {
  const text = issues.map((issue) => (issue.key ? `${issue.key}: ${issue.why}` : issue.why)).join("; ");
  return new ProtocolError("sandbox_error", `${file}: ${text}`, { file, issues });
}

/** `["profiles", "x", "deny_read", 0]` → `profiles.x.deny_read[0]`. */
function keyPath(path: PropertyKey[]): string {
  return path.reduce<string>((key, segment) => {
    if (typeof segment === "number") return `${key}[${segment}]`;
    return key ? `${key}.${String(segment)}` : String(segment);
  }, "");
}

function zodIssues(error: z.ZodError): SandboxIssue[] {
  return error.issues.flatMap((issue) => {
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({ key: keyPath([...issue.path, key]), why: "unknown key" }));
    }
    return [{ key: keyPath(issue.path), why: issue.message }];
  });
}

function parseToml(text: string, file: string): unknown {
  try {
    return Bun.TOML.parse(text);
  } catch (error) {
    throw sandboxLoadError(file, [{ key: "", why: (error as Error).message }]);
  }
}

export interface LoadedSandboxFile {
  file: string;
  data: SandboxFile;
}

/** Parses and validates one sandbox file (global or workspace). */
export function parseSandboxFile(text: string, file: string): LoadedSandboxFile {
  const raw = parseToml(text, file);
  const parsed = SandboxFileSchema.safeParse(raw);
  if (!parsed.success) throw sandboxLoadError(file, zodIssues(parsed.error));
  return { file, data: parsed.data };
}

function readSandboxFile(file: string): LoadedSandboxFile {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw sandboxLoadError(file, [{ key: "", why: `cannot read: ${(error as Error).message}` }]);
  }
  return parseSandboxFile(text, file);
}

const builtinCache = new Map<BuiltinProfileName, ProfileSpec>();

/** A built-in profile, validated by the same schema as user files. */
export function builtinProfile(name: BuiltinProfileName): ProfileSpec {
  const cached = builtinCache.get(name);
  if (cached) return cached;
  const file = builtinProfileFile(name);
  const parsed = ProfileSchema.safeParse(parseToml(BUILTIN_PROFILE_SOURCES[name], file));
  if (!parsed.success) throw sandboxLoadError(file, zodIssues(parsed.error));
  builtinCache.set(name, parsed.data);
  return parsed.data;
}

const isBuiltin = (name: string): name is BuiltinProfileName =>
  (BUILTIN_PROFILE_NAMES as readonly string[]).includes(name);

/** Built-ins first, then the system file's own definitions (which cannot reuse a built-in name). */
function findProfile(name: string, system: LoadedSandboxFile): ProfileSpec | undefined {
  return isBuiltin(name) ? builtinProfile(name) : system.data.profiles[name];
}

function unknownProfile(system: LoadedSandboxFile, name: string): ProtocolError {
  const known = [...BUILTIN_PROFILE_NAMES, ...Object.keys(system.data.profiles)];
  return sandboxLoadError(system.file, [
    { key: "profile", why: `unknown profile '${name}' (known: ${[...new Set(known)].join(", ")})` },
  ]);
}

/** Expands every path of a profile for the target user; the result is what the merge works on. */
function profileToPolicy(spec: ProfileSpec, enabled: boolean, home: string): SandboxPolicy {
  const expand = (paths: string[]) => paths.map((path) => expandProfilePath(path, home));
  return {
    enabled,
    deny_read: expand(spec.deny_read),
    allow_write: expand(spec.allow_write),
    deny_write: expand(spec.deny_write),
    extra_ro_bind: expand(spec.extra_ro_bind),
    extra_rw_bind: expand(spec.extra_rw_bind),
    isolate_network: spec.isolate_network,
    disable_userns: spec.disable_userns,
    assert_userns_disabled: spec.assert_userns_disabled,
    network: { mode: spec.network.mode },
    scoped_paths: spec.scoped_paths.map((rule) => ({
      ...rule,
      base_path: expandProfilePath(rule.base_path, home),
    })),
    seccomp_mode: spec.seccomp_mode,
    landlock_mode: spec.landlock_mode,
  };
}

function ensureSingleUserFile(file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  try {
    writeFileSync(file, DEFAULT_SYSTEM_FILE, { mode: 0o600, flag: "wx" });
  } catch (error) {
    // Another runner wrote it first: fine, it is loaded next.
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
}

/**
 * The system file decides whether there is a sandbox at all, so it counts only where no
 * sandboxed process can have changed it, in place or by replacing it in its directory: owned by
 * root (multi-user: root only) or by the runner's own user, and neither it nor its directory
 * writable by group or others. Sandboxes never see it (it lives in the hidden data dir or /etc).
 */
function assertTrustedFile(file: string, multiUser: boolean): void {
  const owners = multiUser ? [0] : [0, process.getuid?.() ?? 0];
  for (const path of [file, dirname(file)]) {
    const stat = statSync(path);
    if (!owners.includes(stat.uid) || (stat.mode & 0o022) !== 0) {
      const owner = multiUser ? "root" : "root or the runner's user";
      throw sandboxLoadError(file, [
        { key: "", why: `'${path}' must be owned by ${owner} and not group/other-writable` },
      ]);
    }
  }
}

export interface ResolveOptions {
  /** The system sandbox file (`/etc/oqto/sandbox.toml`, else `<runner data dir>/sandbox.toml`). */
  systemFile: string;
  /** The profile the workspace's owner chose (WorkspaceProfiles); omitted or null: the global one alone. */
  workspaceProfile?: string | null;
  /** The TARGET user's home: `~/` in every profile means this directory. */
  home: string;
  multiUser: boolean;
  /** `oqto serve --insecure-no-sandbox`: the only way `enabled = false` is honoured in multi-user mode. */
  insecureNoSandbox?: boolean;
}

/**
 * The profile a workspace's agents and terminals run under: the system file's active profile
 * merged with the one the workspace's owner chose (SANDBOX.md §3). Fails closed: any problem
 * throws ProtocolError("sandbox_error", "<file>: <key>: <why>") and nothing may start.
 */
export function resolveEffectiveProfile(options: ResolveOptions): EffectiveProfile {
  for (const [name, path] of [
    ["systemFile", options.systemFile],
    ["home", options.home],
  ] as const) {
    if (!isAbsolute(path)) throw new ProtocolError("sandbox_error", `${name} must be absolute: '${path}'`);
  }
  const home = normalizeAbsolute(options.home);
  const systemFile = normalizeAbsolute(options.systemFile);

  if (!existsSync(systemFile)) {
    if (options.multiUser) {
      throw sandboxLoadError(systemFile, [
        {
          key: "",
          why: "file not found; in multi-user mode no agent starts without the global sandbox file",
        },
      ]);
    }
    ensureSingleUserFile(systemFile);
  }
  assertTrustedFile(systemFile, options.multiUser);
  const global = readSandboxFile(systemFile);
  const enabled = global.data.enabled ?? true;
  if (!enabled && options.multiUser && !options.insecureNoSandbox) {
    throw sandboxLoadError(systemFile, [
      {
        key: "enabled",
        why: "the sandbox cannot be disabled in multi-user mode (only with serve --insecure-no-sandbox)",
      },
    ]);
  }
  const globalName = global.data.profile ?? "development";
  const globalProfile = findProfile(globalName, global);
  if (!globalProfile) throw unknownProfile(global, globalName);
  const globalPolicy = profileToPolicy(globalProfile, enabled, home);
  const chosen = options.workspaceProfile ?? null;
  const base = { global_profile: globalName, workspace_profile: chosen, system_file: systemFile };
  if (chosen === null) return { ...globalPolicy, ...base };

  const workspaceProfile = findProfile(chosen, global);
  // The choice was valid when it was made; a system file edited since then fails closed.
  if (!workspaceProfile) throw unknownProfile(global, chosen);
  const workspacePolicy = profileToPolicy(workspaceProfile, enabled, home);
  return { ...mergePolicies(globalPolicy, workspacePolicy), ...base };
}
