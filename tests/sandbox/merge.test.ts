import { describe, expect, test } from "bun:test";
import type { SandboxPolicy } from "../../src/runner/sandbox/effective-profile.ts";
import { findLoosenings, mergePolicies, TIGHTEN_ONLY_KEYS } from "../../src/runner/sandbox/merge.ts";
import type { ScopedPathRule } from "../../src/runner/sandbox/profile-schema.ts";

/** The target user's home; the rows' paths lie outside it unless a row is about it. */
const HOME = "/home/u";

/** The loosest possible policy; each row overrides what it is about. */
function policy(overrides: Partial<SandboxPolicy> = {}): SandboxPolicy {
  return {
    enabled: false,
    home: "rw",
    deny_read: [],
    allow_write: [],
    deny_write: [],
    extra_ro_bind: [],
    extra_rw_bind: [],
    isolate_pid: false,
    isolate_network: false,
    drop_all_caps: false,
    disable_userns: false,
    assert_userns_disabled: false,
    no_new_privs: false,
    network: { mode: "open" },
    scoped_paths: [],
    seccomp_mode: "off",
    landlock_mode: "off",
    ...overrides,
  };
}

const rule = (name: string): ScopedPathRule => ({
  name,
  base_path: "/h/.pi/agent/sessions",
  source: "workspace_path",
  transforms: [],
  target_template: "{base_path}/{value}",
  access: "rw",
  missing: "ignore",
});

type Row = [string, Partial<SandboxPolicy>, Partial<SandboxPolicy>, Partial<SandboxPolicy>];

/** [rule, global, workspace, expected part of merge(global, workspace)] — SANDBOX.md §3. */
const MERGE_ROWS: Row[] = [
  [
    "deny_read: union",
    { deny_read: ["/a", "/b"] },
    { deny_read: ["/b", "/c"] },
    { deny_read: ["/a", "/b", "/c"] },
  ],
  ["deny_write: union", { deny_write: ["/a"] }, { deny_write: ["/c"] }, { deny_write: ["/a", "/c"] }],
  [
    "scoped_paths: union, identical rules once",
    { scoped_paths: [rule("one")] },
    { scoped_paths: [rule("one"), rule("two")] },
    { scoped_paths: [rule("one"), rule("two")] },
  ],
  [
    "allow_write: intersection",
    { allow_write: ["/a", "/b"] },
    { allow_write: ["/b", "/c"] },
    { allow_write: ["/b"] },
  ],
  ["allow_write: a workspace cannot add", { allow_write: [] }, { allow_write: ["/x"] }, { allow_write: [] }],
  [
    "allow_write: a path below a granted dir is granted (not below /tmp, the sandbox's own tmpfs)",
    { allow_write: ["/data", "/tmp"] },
    { allow_write: ["/data/sub", "/other", "/tmp/host-dir"] },
    { allow_write: ["/data/sub"] },
  ],
  [
    "allow_write: under a writable global home, a read-only workspace home keeps its exceptions below it",
    { home: "rw", allow_write: ["/tmp"] },
    { home: "ro", allow_write: [`${HOME}/.pi`, "/tmp", "/etc/x"] },
    { home: "ro", allow_write: [`${HOME}/.pi`, "/tmp"] },
  ],
  [
    "allow_write: under a read-only global home, paths below it need listing",
    { home: "ro", allow_write: ["/tmp"] },
    { home: "ro", allow_write: [`${HOME}/.pi`, "/tmp"] },
    { home: "ro", allow_write: ["/tmp"] },
  ],
  [
    "extra_ro_bind: intersection",
    { extra_ro_bind: ["/a", "/b"] },
    { extra_ro_bind: ["/a"] },
    { extra_ro_bind: ["/a"] },
  ],
  [
    "extra_rw_bind: intersection",
    { extra_rw_bind: ["/a"] },
    { extra_rw_bind: ["/z"] },
    { extra_rw_bind: [] },
  ],
  ["home: ro wins (global ro)", { home: "ro" }, { home: "rw" }, { home: "ro" }],
  ["home: ro wins (workspace ro)", { home: "rw" }, { home: "ro" }, { home: "ro" }],
  ["home: rw when both rw", { home: "rw" }, { home: "rw" }, { home: "rw" }],
  ["network.mode: isolated > open", { network: { mode: "isolated" } }, {}, { network: { mode: "isolated" } }],
  [
    "network.mode: workspace isolates",
    {},
    { network: { mode: "isolated" } },
    { network: { mode: "isolated" } },
  ],
  ["network.mode: proxy > open", {}, { network: { mode: "proxy" } }, { network: { mode: "proxy" } }],
  [
    "network.mode: isolated > proxy",
    { network: { mode: "isolated" } },
    { network: { mode: "proxy" } },
    { network: { mode: "isolated" } },
  ],
  ["seccomp_mode: audit > off", {}, { seccomp_mode: "audit" }, { seccomp_mode: "audit" }],
  [
    "seccomp_mode: enforce > audit",
    { seccomp_mode: "enforce" },
    { seccomp_mode: "audit" },
    { seccomp_mode: "enforce" },
  ],
  ["landlock_mode: enforce > off", { landlock_mode: "enforce" }, {}, { landlock_mode: "enforce" }],
  [
    "landlock_mode: enforce > audit",
    { landlock_mode: "audit" },
    { landlock_mode: "enforce" },
    { landlock_mode: "enforce" },
  ],
];

const OR_FIELDS = [
  "enabled",
  "isolate_pid",
  "isolate_network",
  "drop_all_caps",
  "disable_userns",
  "assert_userns_disabled",
  "no_new_privs",
] as const;
for (const field of OR_FIELDS) {
  MERGE_ROWS.push(
    [`${field}: OR (global on)`, { [field]: true }, { [field]: false }, { [field]: true }],
    [`${field}: OR (workspace on)`, { [field]: false }, { [field]: true }, { [field]: true }],
    [`${field}: OR (both off)`, { [field]: false }, { [field]: false }, { [field]: false }],
  );
}

describe("merge(global active, workspace-named)", () => {
  for (const [name, global, workspace, expected] of MERGE_ROWS) {
    test(name, () => {
      expect(mergePolicies(policy(global), policy(workspace), HOME)).toMatchObject(expected);
    });
  }

  test("the merge never loosens: merging the loosest policy into any policy changes nothing", () => {
    const tight = policy({
      enabled: true,
      home: "ro",
      deny_read: ["/s"],
      allow_write: ["/w"],
      deny_write: ["/d"],
      extra_ro_bind: ["/r"],
      extra_rw_bind: ["/x"],
      isolate_pid: true,
      isolate_network: true,
      drop_all_caps: true,
      disable_userns: true,
      assert_userns_disabled: true,
      no_new_privs: true,
      network: { mode: "isolated" },
      seccomp_mode: "enforce",
      landlock_mode: "enforce",
    });
    // The loosest policy grants nothing extra, so only the intersections shrink.
    expect(
      mergePolicies(
        tight,
        policy({ allow_write: ["/w"], extra_ro_bind: ["/r"], extra_rw_bind: ["/x"] }),
        HOME,
      ),
    ).toEqual(tight);
  });
});

/** [key, global, workspace (written explicitly)] where the workspace asks for more than global grants. */
const LOOSENING_ROWS: Array<
  [(typeof TIGHTEN_ONLY_KEYS)[number], Partial<SandboxPolicy>, Partial<SandboxPolicy>]
> = [
  ["enabled", { enabled: true }, { enabled: false }],
  ["home", { home: "ro" }, { home: "rw" }],
  ["allow_write", { allow_write: ["/a"] }, { allow_write: ["/a", "/b"] }],
  ["extra_ro_bind", { extra_ro_bind: [] }, { extra_ro_bind: ["/opt"] }],
  ["extra_rw_bind", { extra_rw_bind: ["/srv/a"] }, { extra_rw_bind: ["/srv"] }],
  ["isolate_pid", { isolate_pid: true }, { isolate_pid: false }],
  ["isolate_network", { isolate_network: true }, { isolate_network: false }],
  ["drop_all_caps", { drop_all_caps: true }, { drop_all_caps: false }],
  ["disable_userns", { disable_userns: true }, { disable_userns: false }],
  ["assert_userns_disabled", { assert_userns_disabled: true }, { assert_userns_disabled: false }],
  ["no_new_privs", { no_new_privs: true }, { no_new_privs: false }],
  ["network.mode", { network: { mode: "isolated" } }, { network: { mode: "open" } }],
  ["seccomp_mode", { seccomp_mode: "enforce" }, { seccomp_mode: "audit" }],
  ["landlock_mode", { landlock_mode: "audit" }, { landlock_mode: "off" }],
];

describe("rejected loosenings", () => {
  test("the table covers every tighten-only key", () => {
    expect(LOOSENING_ROWS.map(([key]) => key).sort()).toEqual([...TIGHTEN_ONLY_KEYS].sort());
  });

  for (const [key, globalPart, workspacePart] of LOOSENING_ROWS) {
    test(`${key}: written explicitly it is reported; merely implied it is not`, () => {
      const global = policy(globalPart);
      const workspace = policy(workspacePart);
      const merged = mergePolicies(global, workspace, HOME);
      const found = findLoosenings(workspace, merged, new Set([key]));
      expect(found).toHaveLength(1);
      expect(found[0]?.key).toBe(key);
      expect(found[0]?.why).toContain("a workspace may only tighten");
      // The same values reached by selecting a profile (not written) are quietly overruled.
      expect(findLoosenings(workspace, merged, new Set())).toEqual([]);
      // And the merge granted nothing beyond the global side.
      const granted = key === "network.mode" ? merged.network.mode : merged[key];
      const allowed = key === "network.mode" ? global.network.mode : global[key];
      if (Array.isArray(granted) && Array.isArray(allowed)) {
        for (const entry of granted) expect(allowed).toContain(entry);
      } else {
        expect(granted).toBe(allowed);
      }
    });
  }

  test("tightening written explicitly is never reported", () => {
    const global = policy({ allow_write: ["/a", "/b"], home: "rw" });
    const workspace = policy({
      allow_write: ["/a"],
      home: "ro",
      isolate_pid: true,
      network: { mode: "isolated" },
    });
    const merged = mergePolicies(global, workspace, HOME);
    expect(findLoosenings(workspace, merged, new Set(TIGHTEN_ONLY_KEYS))).toEqual([]);
  });

  test("the report names what was refused", () => {
    const global = policy({ allow_write: ["/a"] });
    const workspace = policy({ allow_write: ["/a", "/b", "/c"] });
    expect(
      findLoosenings(workspace, mergePolicies(global, workspace, HOME), new Set(["allow_write"])),
    ).toEqual([
      {
        key: "allow_write",
        why: "'/b', '/c' not granted by the global profile (a workspace may only tighten)",
      },
    ]);
  });
});
