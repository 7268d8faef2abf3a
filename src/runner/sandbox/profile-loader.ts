import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import type { z } from "zod";
import { ProtocolError } from "../../protocol/common.ts";
import { BUILTIN_PROFILE_SOURCES, builtinProfileFile } from "./builtin-profiles.ts";
import type { EffectiveProfile, SandboxPolicy } from "./effective-profile.ts";
import { findLoosenings, mergePolicies } from "./merge.ts";
import { expandProfilePath, normalizeAbsolute } from "./paths.ts";
import {
  BUILTIN_PROFILE_NAMES,
  type BuiltinProfileName,
  ProfileSchema,
  type ProfileSpec,
  type SandboxFile,
  SandboxFileSchema,
} from "./profile-schema.ts";

/** A workspace's own sandbox override, relative to the workspace directory. */
export const WORKSPACE_SANDBOX_FILE = join(".oqto", "sandbox.toml");

/** Written to the single-user global file at first start so that it always exists (§1). */
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
  /** The TOML as written, to tell explicit values from defaults. */
  raw: unknown;
}

/** Parses and validates one sandbox file (global or workspace). */
export function parseSandboxFile(text: string, file: string): LoadedSandboxFile {
  const raw = parseToml(text, file);
  const parsed = SandboxFileSchema.safeParse(raw);
  if (!parsed.success) throw sandboxLoadError(file, zodIssues(parsed.error));
  return { file, data: parsed.data, raw };
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

interface FoundProfile {
  spec: ProfileSpec;
  /** The loaded file that defines it, or null for a built-in. */
  source: LoadedSandboxFile | null;
}

/** Built-ins first, then the files in order: global definitions win on name clashes (§3). */
function findProfile(name: string, files: LoadedSandboxFile[]): FoundProfile | undefined {
  if (isBuiltin(name)) return { spec: builtinProfile(name), source: null };
  for (const loaded of files) {
    const spec = loaded.data.profiles[name];
    if (spec) return { spec, source: loaded };
  }
  return undefined;
}

function unknownProfile(file: string, name: string, files: LoadedSandboxFile[]): ProtocolError {
  const known = [...BUILTIN_PROFILE_NAMES, ...files.flatMap((loaded) => Object.keys(loaded.data.profiles))];
  return sandboxLoadError(file, [
    { key: "profile", why: `unknown profile '${name}' (known: ${[...new Set(known)].join(", ")})` },
  ]);
}

/** Expands every path of a profile for the target user; the result is what the merge works on. */
function profileToPolicy(spec: ProfileSpec, enabled: boolean, home: string): SandboxPolicy {
  const expand = (paths: string[]) => paths.map((path) => expandProfilePath(path, home));
  return {
    enabled,
    home: spec.home,
    deny_read: expand(spec.deny_read),
    allow_write: expand(spec.allow_write),
    deny_write: expand(spec.deny_write),
    extra_ro_bind: expand(spec.extra_ro_bind),
    extra_rw_bind: expand(spec.extra_rw_bind),
    isolate_pid: spec.isolate_pid,
    isolate_network: spec.isolate_network,
    drop_all_caps: spec.drop_all_caps,
    disable_userns: spec.disable_userns,
    assert_userns_disabled: spec.assert_userns_disabled,
    no_new_privs: spec.no_new_privs,
    network: { mode: spec.network.mode },
    scoped_paths: spec.scoped_paths.map((rule) => ({
      ...rule,
      base_path: expandProfilePath(rule.base_path, home),
    })),
    seccomp_mode: spec.seccomp_mode,
    landlock_mode: spec.landlock_mode,
  };
}

function childOf(value: unknown, key: string): unknown {
  return value !== null && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined;
}

/** Keys the workspace wrote itself for the profile it defines (defaults are not attempts). */
function explicitProfileKeys(raw: unknown, name: string): Set<string> {
  const profile = childOf(childOf(raw, "profiles"), name);
  const keys = new Set(profile !== null && typeof profile === "object" ? Object.keys(profile) : []);
  if (childOf(childOf(profile, "network"), "mode") !== undefined) keys.add("network.mode");
  return keys;
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
 * Multi-user: the global file is authoritative only while users cannot change it (§1), neither
 * in place nor by replacing it in its directory.
 */
function assertRootOwned(file: string): void {
  for (const path of [file, dirname(file)]) {
    const stat = statSync(path);
    if (stat.uid !== 0 || (stat.mode & 0o022) !== 0) {
      throw sandboxLoadError(file, [
        {
          key: "",
          why: `in multi-user mode '${path}' must be owned by root and not group/other-writable`,
        },
      ]);
    }
  }
}

export interface ResolveOptions {
  /** The global sandbox file (`/etc/oqto/sandbox.toml` multi-user, the user's config dir single-user). */
  systemFile: string;
  /** Omitted: the global profile alone (no workspace file applies). */
  workspacePath?: string;
  /** The TARGET user's home: `~/` in every profile means this directory. */
  home: string;
  multiUser: boolean;
  /** `oqto serve --insecure-no-sandbox`: the only way `enabled = false` is honoured in multi-user mode. */
  insecureNoSandbox?: boolean;
}

/**
 * The profile a workspace's agents and terminals run under: the global active profile merged
 * with the one the workspace file names (SANDBOX.md §3). Fails closed: any problem throws
 * ProtocolError("sandbox_error", "<file>: <key>: <why>") and nothing may start.
 */
export function resolveEffectiveProfile(options: ResolveOptions): EffectiveProfile {
  for (const [name, path] of [
    ["systemFile", options.systemFile],
    ["workspacePath", options.workspacePath ?? "/"],
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
  if (options.multiUser) assertRootOwned(systemFile);
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
  const globalProfile = findProfile(globalName, [global]);
  if (!globalProfile) throw unknownProfile(systemFile, globalName, [global]);
  const globalPolicy = profileToPolicy(globalProfile.spec, enabled, home);

  const workspaceFile =
    options.workspacePath === undefined
      ? undefined
      : join(normalizeAbsolute(options.workspacePath), WORKSPACE_SANDBOX_FILE);
  const protectedFiles = [systemFile];
  if (workspaceFile === undefined || !existsSync(workspaceFile)) {
    return {
      ...globalPolicy,
      global_profile: globalName,
      workspace_profile: null,
      protected_files: protectedFiles,
    };
  }
  protectedFiles.push(workspaceFile);
  const workspace = readSandboxFile(workspaceFile);
  const workspaceName = workspace.data.profile ?? globalName;
  const workspaceProfile = findProfile(workspaceName, [global, workspace]);
  if (!workspaceProfile) throw unknownProfile(workspaceFile, workspaceName, [global, workspace]);
  const workspacePolicy = profileToPolicy(workspaceProfile.spec, workspace.data.enabled ?? enabled, home);
  const merged = mergePolicies(globalPolicy, workspacePolicy, home);

  // Explicit loosening in the workspace file is an error that names the key; selecting a looser
  // built-in or global profile by name is not (the merge quietly keeps the global values).
  const explicit =
    workspaceProfile.source === workspace
      ? explicitProfileKeys(workspace.raw, workspaceName)
      : new Set<string>();
  if (workspace.data.enabled !== undefined) explicit.add("enabled");
  const loosenings = findLoosenings(workspacePolicy, merged, explicit).map(({ key, why }) => ({
    key: key === "enabled" ? key : `profiles.${workspaceName}.${key}`,
    why,
  }));
  if (loosenings.length > 0) throw sandboxLoadError(workspaceFile, loosenings);

  return {
    ...merged,
    global_profile: globalName,
    workspace_profile: workspace.data.profile ?? null,
    protected_files: protectedFiles,
  };
}
