/**
 * A workspace's profile choice: kept by the runner outside every workspace (WorkspaceProfiles),
 * changed only towards stricter (WorkspaceSandbox.set), and applied to every folder inside it.
 */
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { join } from "node:path";
import { WorkspaceProfiles } from "../../src/runner/sandbox/workspace-profiles.ts";
import { WorkspaceSandbox } from "../../src/runner/sandbox/workspace-sandbox.ts";
import { terminalSandbox } from "../../src/runner/sandbox/wrap.ts";
import { owningWorkspace } from "../../src/runner/workspace-dir.ts";
import { buildHome, type HomeFixture, put, thrown } from "./helpers.ts";

const root = mkdtempSync("/tmp/sbw-");
afterAll(() => rmSync(root, { recursive: true, force: true }));

let caseDir: string;
let store: string;
let caseNumber = 0;
beforeEach(() => {
  caseDir = join(root, String(caseNumber++));
  store = join(caseDir, "state", "workspace-profiles.json");
});

describe("WorkspaceProfiles", () => {
  test("a choice persists across instances, one entry per workspace", () => {
    const first = new WorkspaceProfiles(store);
    expect(first.get("/w/a")).toBeNull();
    first.set("/w/a", "strict");
    first.set("/w/b", "development");
    first.set("/w/a", "development");
    const second = new WorkspaceProfiles(store);
    expect([second.get("/w/a"), second.get("/w/b"), second.get("/w/c")]).toEqual([
      "development",
      "development",
      null,
    ]);
    expect(JSON.parse(readFileSync(store, "utf8"))).toEqual({
      version: 1,
      workspaces: { "/w/a": "development", "/w/b": "development" },
    });
    expect(statSync(store).mode & 0o777).toBe(0o600);
  });

  test("writes replace the file whole: a reader keeps the old version, no temp file is left", () => {
    const profiles = new WorkspaceProfiles(store);
    profiles.set("/w/a", "strict");
    const before = readFileSync(store, "utf8");
    const reader = openSync(store, "r");
    try {
      profiles.set("/w/b", "minimal");
      // Renamed into place, not rewritten: the open file still holds the complete old content.
      expect(readFileSync(reader, "utf8")).toBe(before);
    } finally {
      closeSync(reader);
    }
    expect(new WorkspaceProfiles(store).get("/w/b")).toBe("minimal");
    expect(readdirSync(join(caseDir, "state"))).toEqual(["workspace-profiles.json"]);
  });

  const damaged: Array<[string, string, string]> = [
    ["not JSON", "{ not json", "not JSON"],
    ["another version", '{"version": 2, "workspaces": {}}', "version"],
    ["a relative workspace", '{"version": 1, "workspaces": {"w/a": "strict"}}', "workspaces"],
    ["a bad profile name", '{"version": 1, "workspaces": {"/w/a": "a b"}}', "profile names are"],
  ];
  for (const [what, text, why] of damaged) {
    test(`a damaged store (${what}) fails closed, and is not overwritten`, () => {
      put(store, text);
      const profiles = new WorkspaceProfiles(store);
      const error = thrown(() => profiles.get("/w/a")).message;
      expect(error).toStartWith(`${store}: `);
      expect(error).toContain(why);
      thrown(() => profiles.set("/w/a", "strict"));
      expect(readFileSync(store, "utf8")).toBe(text);
    });
  }
});

describe("WorkspaceSandbox", () => {
  /** A home whose system file names `global`, and the sandbox over a fresh store. */
  function setup(global: string): { fx: HomeFixture; sandbox: WorkspaceSandbox } {
    const fx = buildHome(join(caseDir, "home"), global);
    const sandbox = new WorkspaceSandbox({
      systemFile: fx.systemFile,
      home: fx.home,
      multiUser: false,
      choices: new WorkspaceProfiles(store),
    });
    return { fx, sandbox };
  }

  test("without a choice: the system profile, and it or anything stricter can be chosen", () => {
    const { fx, sandbox } = setup("development");
    const view = sandbox.get(fx.workspace);
    expect([view.enabled, view.profile, view.profiles]).toEqual([
      true,
      "development",
      ["development", "strict"],
    ]);
    expect(view.effective.workspace_profile).toBeNull();
  });

  test("set refuses a looser profile and an unknown one, and stores nothing", () => {
    for (const [global, looser] of [
      ["development", "minimal"],
      ["strict", "development"],
      ["strict", "minimal"],
    ] as const) {
      const { fx, sandbox } = setup(global);
      expect(thrown(() => sandbox.set(fx.workspace, looser), "invalid_request").message).toBe(
        `profile '${looser}' is looser than the system profile '${global}': a workspace may only tighten`,
      );
      expect(sandbox.get(fx.workspace).profile).toBe(global);
    }
    const { fx, sandbox } = setup("minimal");
    expect(thrown(() => sandbox.set(fx.workspace, "paranoid"), "invalid_request").message).toBe(
      "unknown profile 'paranoid' (choose one of: minimal, development, strict)",
    );
    expect(new WorkspaceProfiles(store).get(fx.workspace)).toBeNull();
  });

  test("set accepts the system profile and stricter ones; the choice applies at once", () => {
    const { fx, sandbox } = setup("minimal");
    expect(sandbox.set(fx.workspace, "minimal").profile).toBe("minimal");
    const view = sandbox.set(fx.workspace, "strict");
    expect([view.profile, view.effective.workspace_profile]).toEqual(["strict", "strict"]);
    expect(sandbox.effective(fx.workspace).network.mode).toBe("isolated");
    expect(new WorkspaceProfiles(store).get(fx.workspace)).toBe("strict");
    // Other workspaces and the global view are untouched.
    expect(sandbox.effective(fx.bareWorkspace).network.mode).toBe("open");
    expect(sandbox.global().workspace_profile).toBeNull();
    expect(sandbox.global().network.mode).toBe("open");
  });

  test("a system profile tightened later wins over an older, looser choice", () => {
    const { fx, sandbox } = setup("minimal");
    sandbox.set(fx.workspace, "development");
    put(fx.systemFile, 'profile = "strict"\n');
    const effective = sandbox.effective(fx.workspace);
    expect([effective.global_profile, effective.workspace_profile]).toEqual(["strict", "development"]);
    expect([effective.network.mode, effective.allow_write]).toEqual(["isolated", ["/tmp"]]);
  });

  test("a damaged store fails every start closed", () => {
    const { fx, sandbox } = setup("minimal");
    put(store, "[]");
    thrown(() => sandbox.effective(fx.workspace));
    thrown(() => sandbox.get(fx.workspace));
  });

  test("a folder inside a workspace runs under that workspace's choice", () => {
    const { fx, sandbox } = setup("minimal");
    sandbox.set(fx.workspace, "strict");
    const sub = join(fx.workspace, "src", "deep");
    mkdirSync(sub, { recursive: true });
    expect(owningWorkspace(fx.workspaceRoot, sub)).toBe(fx.workspace);
    expect(sandbox.effective(owningWorkspace(fx.workspaceRoot, sub)).network.mode).toBe("isolated");

    const wrap = terminalSandbox({
      sandbox,
      home: fx.home,
      workspaceRoot: fx.workspaceRoot,
      hiddenPaths: [fx.dataDir],
    });
    const argv = wrap(sub, ["/bin/sh"]).join(" ");
    expect(argv).toContain("--unshare-net");
    expect(argv).toContain(`--bind ${fx.workspace} ${fx.workspace} --chdir ${sub} `);
    // The sibling workspace keeps the global profile.
    expect(wrap(fx.bareWorkspace, ["/bin/sh"])).not.toContain("--unshare-net");
  });
});
