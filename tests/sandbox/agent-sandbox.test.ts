/**
 * What `agentSandbox` adds around pi beyond the profile: a private dir per launch with a read-only
 * pi config that carries no key, and a transpiler cache per workspace that one workspace's agent
 * can write but no other workspace's sandbox can see.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { BUILTIN_PROFILE_NAMES } from "../../src/runner/sandbox/profile-schema.ts";
import { WorkspaceProfiles } from "../../src/runner/sandbox/workspace-profiles.ts";
import { WorkspaceSandbox } from "../../src/runner/sandbox/workspace-sandbox.ts";
import { agentSandbox, type SandboxWrapOptions } from "../../src/runner/sandbox/wrap.ts";
import { runProcess } from "../helpers/run-process.ts";
import { buildHome, put, thrown } from "./helpers.ts";

const REPO = join(import.meta.dir, "../..");
const root = mkdtempSync("/tmp/sbg-");
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** An agent sandbox laid out as the runner does: everything it makes lives in the hidden data dir. */
function setup(name: string, profile: string, overrides: Partial<SandboxWrapOptions> = {}) {
  const fx = buildHome(join(root, name, "home"), profile);
  const state = join(fx.dataDir, "runner");
  const piConfigDir = join(state, "pi");
  put(
    join(piConfigDir, "models.json"),
    JSON.stringify({ providers: { fake: { baseUrl: "http://127.0.0.1:9/v1", apiKey: "sk-real" } } }),
  );
  put(join(piConfigDir, "settings.json"), '{"theme": "dark"}\n');
  const agents = join(state, "agents");
  const wrap = agentSandbox({
    sandbox: new WorkspaceSandbox({
      systemFile: fx.systemFile,
      home: fx.home,
      multiUser: false,
      choices: new WorkspaceProfiles(join(state, "workspace-profiles.json")),
    }),
    home: fx.home,
    workspaceRoot: fx.workspaceRoot,
    hiddenPaths: [fx.dataDir],
    ...overrides,
    agent: {
      root: agents,
      piConfigDir,
      sessionDirFor: (_cwd, { sessionId }) => join(state, "sessions", sessionId),
      shimCommand: [process.execPath, join(REPO, "src/cli/main.ts"), "sandbox-shim"],
      shimPaths: [join(REPO, "src")],
      cacheRoot: join(state, "cache"),
      log: () => {},
    },
  });
  const run = (launch: ReturnType<typeof wrap>, env: Record<string, string> = {}) =>
    runProcess(launch.argv, { env: { HOME: fx.home, PATH: process.env.PATH ?? "", ...launch.env, ...env } });
  return { fx, state, agents, piConfigDir, wrap, run };
}

const W = `w() { if err=$("$@" 2>&1 >/dev/null); then echo ok; else echo "\${err##*: }"; fi; }`;

describe("each launch gets its own private pi dir", () => {
  for (const profile of BUILTIN_PROFILE_NAMES) {
    test(`${profile}: read-only config without the key, invisible to other launches, removed on release`, async () => {
      const { fx, agents, piConfigDir, wrap, run } = setup(`private-${profile}`, profile);
      const probe = [
        W,
        'echo "models_write=$(w sh -c \'echo x > "$PI_CODING_AGENT_DIR/models.json"\')"',
        'echo "settings_write=$(w sh -c \'echo x > "$PI_CODING_AGENT_DIR/settings.json"\')"',
        // pi locks settings.json with a dir next to it: the private dir itself stays writable.
        'echo "lock=$(w mkdir "$PI_CODING_AGENT_DIR/settings.json.lock")"',
        'echo "settings=$(cat "$PI_CODING_AGENT_DIR/settings.json")"',
        'echo "key=$(grep -c sk-real "$PI_CODING_AGENT_DIR/models.json")"',
        'echo "token=$(grep -c \'"apiKey": "oqto-bridge-\' "$PI_CODING_AGENT_DIR/models.json")"',
        'echo "auth=$(w ls "$PI_CODING_AGENT_DIR/auth.json")"',
        'echo "host_config=$(w ls "$HOST_CONFIG")"',
        'echo "other_launch=$(w ls "$OTHER")"',
        'echo "session=$(w touch "$PI_CODING_AGENT_SESSION_DIR/s.jsonl")"',
        'echo "other_session=$(w ls "$OTHER_SESSION")"',
      ].join("\n");
      const first = wrap(fx.workspace, ["true"], { sessionId: "s1" });
      const second = wrap(fx.workspace, ["/bin/sh", "-c", probe], { sessionId: "s2" });
      const firstDir = first.env.PI_CODING_AGENT_DIR as string;
      const secondDir = second.env.PI_CODING_AGENT_DIR as string;
      try {
        expect(firstDir).not.toBe(secondDir);
        for (const dir of [firstDir, secondDir]) expect(dir.startsWith(`${agents}/`)).toBe(true);
        const { stdout, stderr, code } = await run(second, {
          HOST_CONFIG: piConfigDir,
          OTHER: firstDir,
          OTHER_SESSION: first.env.PI_CODING_AGENT_SESSION_DIR as string,
        });
        expect([stderr, code]).toEqual(["", 0]);
        expect(stdout.trim().split("\n")).toEqual([
          "models_write=Read-only file system",
          "settings_write=Read-only file system",
          "lock=ok",
          'settings={"theme": "dark"}',
          "key=0",
          "token=1",
          "auth=No such file or directory",
          "host_config=No such file or directory",
          "other_launch=No such file or directory",
          "session=ok",
          "other_session=No such file or directory",
        ]);
        expect(readFileSync(join(piConfigDir, "settings.json"), "utf8")).toBe('{"theme": "dark"}\n');
      } finally {
        first.release();
        second.release();
      }
      expect(existsSync(firstDir) || existsSync(secondDir)).toBe(false);
      // The session file outlives the launch: it is pi's history, kept in the runner's state.
      expect(existsSync(join(second.env.PI_CODING_AGENT_SESSION_DIR as string, "s.jsonl"))).toBe(true);
    });
  }

  test("a launch that cannot be built leaves no private dir behind", () => {
    const { fx, agents, wrap } = setup("broken", "development", { extraRoBinds: ["/no/such/pi"] });
    expect(thrown(() => wrap(fx.workspace, ["true"], { sessionId: "s" })).message).toBe(
      "extra read-only bind '/no/such/pi' does not exist",
    );
    expect(readdirSync(agents)).toEqual([]);
  });

  test("a disabled sandbox runs the command as it is, with nothing made", () => {
    const { fx, agents, wrap } = setup("disabled", "development");
    put(fx.systemFile, "enabled = false\n");
    const launch = wrap(fx.workspace, ["pi", "--mode", "rpc"], { sessionId: "s" });
    expect([launch.argv, launch.env]).toEqual([["pi", "--mode", "rpc"], {}]);
    expect(existsSync(agents)).toBe(false);
  });
});

describe("transpiler caches", () => {
  for (const profile of BUILTIN_PROFILE_NAMES) {
    test(`${profile}: each workspace's pi gets its own writable cache, invisible to other workspaces`, async () => {
      const { fx, state, wrap, run } = setup(`cache-${profile}`, profile);
      const other = join(fx.workspaceRoot, "other");
      mkdirSync(other, { recursive: true });
      const otherCache = wrap(other, ["true"], { sessionId: "s-other" });
      otherCache.release();
      const otherDir = otherCache.env.BUN_RUNTIME_TRANSPILER_CACHE_PATH as string;

      const script = `echo cached > "$BUN_RUNTIME_TRANSPILER_CACHE_PATH/probe" && echo own=ok; ls "${otherDir}" >/dev/null 2>&1 && echo other=visible || echo other=hidden`;
      // From a subfolder: the cache is the workspace's, not the folder's.
      const sub = join(fx.bareWorkspace, "sub");
      mkdirSync(sub);
      const launch = wrap(sub, ["/bin/sh", "-c", script], { sessionId: "s-sub" });
      try {
        const own = launch.env.BUN_RUNTIME_TRANSPILER_CACHE_PATH as string;
        expect(own.startsWith(`${join(state, "cache")}/`)).toBe(true);
        expect(own).not.toBe(otherDir);
        const again = wrap(fx.bareWorkspace, ["true"], { sessionId: "s-again" });
        again.release();
        expect(again.env.BUN_RUNTIME_TRANSPILER_CACHE_PATH).toBe(own);
        const { stdout, stderr, code } = await run(launch);
        expect([stderr, code]).toEqual(["", 0]);
        expect(stdout).toBe("own=ok\nother=hidden\n");
        expect(readFileSync(join(own, "probe"), "utf8")).toBe("cached\n");
        expect(existsSync(join(otherDir, "probe"))).toBe(false);
      } finally {
        launch.release();
      }
    });
  }
});
