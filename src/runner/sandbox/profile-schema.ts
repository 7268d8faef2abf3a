import { z } from "zod";
import { profilePathProblem } from "./paths.ts";

/**
 * The sandbox file format (SANDBOX.md §2). Every table is strict: a key the sandbox does not
 * enforce must fail loudly instead of giving a false sense of protection. Paths are checked for
 * syntax here and expanded for the target user by the loader.
 */

export const BUILTIN_PROFILE_NAMES = ["minimal", "development", "strict"] as const;
export type BuiltinProfileName = (typeof BUILTIN_PROFILE_NAMES)[number];

const NOT_SUPPORTED = "not supported in this version";

export const ProfileName = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, "profile names are 1-64 letters, digits, '_' or '-'");

export const ProfilePath = z.string().superRefine((path, ctx) => {
  const problem = profilePathProblem(path);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

/** Present in the format, not implemented in v1: any value is a load error. */
const reserved = () => z.never({ error: NOT_SUPPORTED }).optional();

/** seccomp/landlock levels, loosest first (the merge keeps the stricter one). */
export const ENFORCEMENT_MODES = ["off", "audit", "enforce"] as const;
export type EnforcementMode = (typeof ENFORCEMENT_MODES)[number];
const EnforcementMode = z
  .enum(ENFORCEMENT_MODES)
  .default("off")
  .refine((mode) => mode === "off", NOT_SUPPORTED);

/** Network modes, loosest first (the merge keeps the more restrictive one). */
export const NETWORK_MODES = ["open", "proxy", "isolated"] as const;
export type NetworkMode = (typeof NETWORK_MODES)[number];

const Transform = z.discriminatedUnion("op", [
  z.strictObject({ op: z.literal("strip_prefix"), value: z.string().min(1) }),
  z.strictObject({ op: z.literal("replace"), from: z.string().min(1), to: z.string() }),
  z.strictObject({ op: z.literal("wrap"), prefix: z.string(), suffix: z.string() }),
]);
export type ScopedPathTransform = z.infer<typeof Transform>;

/** Hides `base_path` and exposes only the computed target below it. */
export const ScopedPathRule = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "1-64 letters, digits, '_' or '-'"),
    base_path: ProfilePath,
    source: z.enum(["workspace_path", "literal"]),
    source_literal: z.string().min(1).optional(),
    transforms: z.array(Transform).default([]),
    target_template: z
      .string()
      .default("{base_path}/{value}")
      .refine(
        (template) => template.startsWith("{base_path}/") && template.includes("{value}"),
        "must start with '{base_path}/' and contain '{value}'",
      )
      .refine(
        (template) => template.replace(/\{base_path\}|\{value\}/g, "").search(/[{}]/) === -1,
        "only the placeholders {base_path} and {value} exist",
      ),
    access: z.enum(["ro", "rw"]),
    missing: z.enum(["ignore", "warn", "fail"]),
  })
  .superRefine((rule, ctx) => {
    if (rule.source === "literal" && rule.source_literal === undefined) {
      ctx.addIssue({ code: "custom", path: ["source_literal"], message: "required when source = 'literal'" });
    }
    if (rule.source === "workspace_path" && rule.source_literal !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["source_literal"],
        message: "only allowed when source = 'literal'",
      });
    }
  });
export type ScopedPathRule = z.infer<typeof ScopedPathRule>;

/**
 * A switch every profile must leave on: a profile may say `true` for clarity, never `false`.
 * They close the ways out found as root (issue 10): capabilities, a shared pid namespace, setuid.
 */
const alwaysOn = (why: string) =>
  z
    .boolean()
    .optional()
    .refine((value) => value !== false, `must stay true: ${why}`);

/** One `[profiles.<name>]` table (and the body of each built-in profile file). */
export const ProfileSchema = z.strictObject({
  // A writable home would let an agent rename any parent of what the sandbox hides or protects
  // (login files, Oqto's state) and plant code that runs outside the sandbox.
  home: z
    .literal("ro", {
      error: "must be 'ro': the home is always read-only; list writable places in allow_write",
    })
    .optional(),
  deny_read: z.array(ProfilePath).default([]),
  allow_write: z.array(ProfilePath).default([]),
  deny_write: z.array(ProfilePath).default([]),
  extra_ro_bind: z.array(ProfilePath).default([]),
  extra_rw_bind: z.array(ProfilePath).default([]),
  isolate_pid: alwaysOn("every sandbox has its own pid namespace (no signals to host processes)"),
  isolate_network: z.boolean().default(false),
  drop_all_caps: alwaysOn("every sandbox runs with --cap-drop ALL"),
  disable_userns: z.boolean().default(false),
  assert_userns_disabled: z.boolean().default(false),
  no_new_privs: alwaysOn("bubblewrap always sets no_new_privs"),
  network: z
    .strictObject({
      mode: z
        .enum(NETWORK_MODES)
        .default("open")
        .refine((mode) => mode !== "proxy", `'proxy' is ${NOT_SUPPORTED}`),
      allow_domains: reserved(),
      proxy_tcp_port: reserved(),
      proxy_dns_port: reserved(),
      log_requests: reserved(),
    })
    .prefault({}),
  scoped_paths: z.array(ScopedPathRule).default([]),
  seccomp_mode: EnforcementMode,
  landlock_mode: EnforcementMode,
  seccomp_bpf_path: reserved(),
  overlay_enabled: reserved(),
  overlay_root: reserved(),
  overlay_paths: reserved(),
  guard: reserved(),
  ssh: reserved(),
  prompts: reserved(),
});
export type ProfileSpec = z.infer<typeof ProfileSchema>;

/**
 * A global or workspace sandbox file. `enabled` and `profile` stay optional here: in a workspace
 * file their absence means "no opinion"; the loader applies the global defaults.
 */
export const SandboxFileSchema = z.strictObject({
  enabled: z.boolean().optional(),
  profile: ProfileName.optional(),
  profiles: z
    .record(z.string(), ProfileSchema)
    .default({})
    .superRefine((profiles, ctx) => {
      for (const name of Object.keys(profiles)) {
        if ((BUILTIN_PROFILE_NAMES as readonly string[]).includes(name)) {
          ctx.addIssue({ code: "custom", path: [name], message: `redefines the built-in profile '${name}'` });
        } else if (!ProfileName.safeParse(name).success) {
          ctx.addIssue({
            code: "custom",
            path: [name],
            message: "profile names are 1-64 letters, digits, '_' or '-'",
          });
        }
      }
    }),
});
export type SandboxFile = z.infer<typeof SandboxFileSchema>;
