import { describe, expect, test } from "bun:test";
import type { SandboxPolicy } from "../../src/runner/sandbox/effective-profile.ts";
import { mergePolicies } from "../../src/runner/sandbox/merge.ts";
import type { ScopedPathRule } from "../../src/runner/sandbox/profile-schema.ts";

/** The loosest possible policy; each row overrides what it is about. */
function policy(overrides: Partial<SandboxPolicy> = {}): SandboxPolicy {
  return {
    enabled: false,
    deny_read: [],
    allow_write: [],
    deny_write: [],
    extra_ro_bind: [],
    extra_rw_bind: [],
    isolate_network: false,
    disable_userns: false,
    assert_userns_disabled: false,
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

const OR_FIELDS = ["enabled", "isolate_network", "disable_userns", "assert_userns_disabled"] as const;
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
      expect(mergePolicies(policy(global), policy(workspace))).toMatchObject(expected);
    });
  }

  test("the merge never loosens: merging the loosest policy into any policy changes nothing", () => {
    const tight = policy({
      enabled: true,
      deny_read: ["/s"],
      allow_write: ["/w"],
      deny_write: ["/d"],
      extra_ro_bind: ["/r"],
      extra_rw_bind: ["/x"],
      isolate_network: true,
      disable_userns: true,
      assert_userns_disabled: true,
      network: { mode: "isolated" },
      seccomp_mode: "enforce",
      landlock_mode: "enforce",
    });
    // The loosest policy grants nothing extra, so only the intersections shrink.
    const grants = { allow_write: ["/w"], extra_ro_bind: ["/r"], extra_rw_bind: ["/x"] };
    expect(mergePolicies(tight, policy(grants))).toEqual(tight);
    // A tight choice under a loose global applies in full, but for grants the global never gave.
    expect(mergePolicies(policy(grants), tight)).toEqual(tight);
    expect(mergePolicies(policy(), tight)).toEqual({
      ...tight,
      allow_write: [],
      extra_ro_bind: [],
      extra_rw_bind: [],
    });
    expect(mergePolicies(tight, tight)).toEqual(tight);
  });
});
