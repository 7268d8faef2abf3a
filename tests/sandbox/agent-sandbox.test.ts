/**
 * What `agentSandbox` adds around pi beyond the profile: an LLM token of its own for every launch (in
 * its environment, withdrawn on release), a private dir per launch with a read-only pi config that
 * carries no key, and a transpiler cache per workspace that one workspace's agent can write but no
 * other workspace's sandbox can see.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { LLM_TOKEN_ENV } from "../../src/protocol/llm.ts";
import type { LlmTokenPush } from "../../src/protocol/runner.ts";
import { LlmTokens } from "../../src/runner/llm/llm-tokens.ts";
import { LLM_BRIDGE_PORT } from "../../src/runner/sandbox/llm-bridge.ts";
import { BUILTIN_PROFILE_NAMES } from "../../src/runner/sandbox/profile-schema.ts";
import { WorkspaceProfiles } from "../../src/runner/sandbox/workspace-profiles.ts";
import { WorkspaceSandbox } from "../../src/runner/sandbox/workspace-sandbox.ts";
import { agentSandbox, type SandboxWrapOptions } from "../../src/runner/sandbox/wrap.ts";
import { runProcess } from "../helpers/run-process.ts";
import { buildHome, put, thrown } from "./helpers.ts";

const REPO = join(import.meta.dir, "../..");
const root = mkdtempSync("/tmp/sbg-");
afterAll(() => rmSync(root, { recursive: true, force: true }));

const hashOf = (token: string) => createHash("sha256").update(token).digest("hex");

/** An agent sandbox laid out as the runner does: everything it makes lives in the hidden data dir. */
function setup(name: string, profile: string, overrides: Partial<SandboxWrapOptions> = {}) {
  const fx = buildHome(join(root, name, "home"), profile);
  const state = join(fx.dataDir, "runner");
  const piConfigDir = join(state, "pi");
  // As the server writes it: every provider on the gateway, the key the name of the token's variable.
  const models = put(
    join(piConfigDir, "models.json"),
    `${JSON.stringify(
      {
        providers: {
          fake: { baseUrl: "http://127.0.0.1:9/llm/fake", api: "openai-completions", apiKey: LLM_TOKEN_ENV },
        },
      },
      null,
      2,
    )}\n`,
  );
  put(join(piConfigDir, "settings.json"), '{"theme": "dark"}\n');
  const pushes: LlmTokenPush[] = [];
  const tokens = new LlmTokens((frame) => {
    if (frame.type === "llm_token") pushes.push(frame);
  });
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
      mintLlmToken: (sessionId) => tokens.mint(sessionId),
      sessionDirFor: (_cwd, { sessionId }) => join(state, "sessions", sessionId),
      shimCommand: [process.execPath, join(REPO, "src/cli/main.ts"), "sandbox-shim"],
      shimPaths: [join(REPO, "src")],
      cacheRoot: join(state, "cache"),
      log: () => {},
    },
  });
  const run = (launch: ReturnType<typeof wrap>, env: Record<string, string> = {}) =>
    runProcess(launch.argv, { env: { HOME: fx.home, PATH: process.env.PATH ?? "", ...launch.env, ...env } });
  return { fx, state, agents, piConfigDir, models, pushes, tokens, wrap, run };
}

const W = `w() { if err=$("$@" 2>&1 >/dev/null); then echo ok; else echo "\${err##*: }"; fi; }`;

describe("each launch gets its own LLM token and private pi dir", () => {
  for (const profile of BUILTIN_PROFILE_NAMES) {
    test(`${profile}: its own token, read-only config without a key, invisible to other launches, removed on release`, async () => {
      const { fx, agents, piConfigDir, models, pushes, tokens, wrap, run } = setup(
        `private-${profile}`,
        profile,
      );
      // The one built-in profile without network: its pi reaches the gateway through a bridge.
      const isolated = profile === "strict";
      const probe = [
        W,
        'echo "models_write=$(w sh -c \'echo x > "$PI_CODING_AGENT_DIR/models.json"\')"',
        'echo "settings_write=$(w sh -c \'echo x > "$PI_CODING_AGENT_DIR/settings.json"\')"',
        // pi locks settings.json with a dir next to it: the private dir itself stays writable.
        'echo "lock=$(w mkdir "$PI_CODING_AGENT_DIR/settings.json.lock")"',
        'echo "settings=$(cat "$PI_CODING_AGENT_DIR/settings.json")"',
        // Neither a provider key nor the token itself: models.json only names the token's variable.
        'echo "key=$(grep -c -e sk- -e oqtok_ "$PI_CODING_AGENT_DIR/models.json")"',
        `echo "api_key=$(grep -c '"apiKey": "${LLM_TOKEN_ENV}"' "$PI_CODING_AGENT_DIR/models.json")"`,
        `echo "base=$(grep -o '"baseUrl": "[^"]*"' "$PI_CODING_AGENT_DIR/models.json")"`,
        // pi resolves the key from the variable models.json names: it holds this launch's own token.
        `echo "token=$([ "$${LLM_TOKEN_ENV}" = "$EXPECTED_TOKEN" ] && echo own || echo other)"`,
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
      const firstToken = first.env[LLM_TOKEN_ENV] as string;
      const secondToken = second.env[LLM_TOKEN_ENV] as string;
      try {
        expect(firstDir).not.toBe(secondDir);
        for (const dir of [firstDir, secondDir]) expect(dir.startsWith(`${agents}/`)).toBe(true);
        for (const token of [firstToken, secondToken]) expect(token).toMatch(/^oqtok_[\w-]{43}$/);
        expect(firstToken).not.toBe(secondToken);
        expect(pushes).toEqual([
          { type: "llm_token", op: "add", token_hash: hashOf(firstToken), session_id: "s1" },
          { type: "llm_token", op: "add", token_hash: hashOf(secondToken), session_id: "s2" },
        ]);

        // The private models.json: the host's for a sandbox with the host's network, the bridge's
        // rewrite under a network-isolated one. Either way no key, only the variable's name.
        const hostText = readFileSync(models, "utf8");
        const privateText = readFileSync(join(secondDir, "models.json"), "utf8");
        const bridgeBase = `http://127.0.0.1:${LLM_BRIDGE_PORT}/r0`;
        if (isolated) {
          expect(JSON.parse(privateText)).toEqual({
            providers: { fake: { baseUrl: bridgeBase, api: "openai-completions", apiKey: LLM_TOKEN_ENV } },
          });
        } else {
          expect(privateText).toBe(hostText);
        }

        const { stdout, stderr, code } = await run(second, {
          HOST_CONFIG: piConfigDir,
          OTHER: firstDir,
          OTHER_SESSION: first.env.PI_CODING_AGENT_SESSION_DIR as string,
          EXPECTED_TOKEN: secondToken,
        });
        expect([stderr, code]).toEqual(["", 0]);
        expect(stdout.trim().split("\n")).toEqual([
          "models_write=Read-only file system",
          "settings_write=Read-only file system",
          "lock=ok",
          'settings={"theme": "dark"}',
          "key=0",
          "api_key=1",
          `base="baseUrl": "${isolated ? bridgeBase : "http://127.0.0.1:9/llm/fake"}"`,
          "token=own",
          "auth=No such file or directory",
          "host_config=No such file or directory",
          "other_launch=No such file or directory",
          "session=ok",
          "other_session=No such file or directory",
        ]);
        expect(readFileSync(join(piConfigDir, "settings.json"), "utf8")).toBe('{"theme": "dark"}\n');
        expect(readFileSync(models, "utf8")).toBe(hostText);
      } finally {
        first.release();
        second.release();
      }
      expect(existsSync(firstDir) || existsSync(secondDir)).toBe(false);
      expect(pushes.slice(2)).toEqual([
        { type: "llm_token", op: "remove", token_hash: hashOf(firstToken), session_id: "s1" },
        { type: "llm_token", op: "remove", token_hash: hashOf(secondToken), session_id: "s2" },
      ]);
      expect(tokens.list()).toEqual([]);
      // A second release withdraws nothing more.
      second.release();
      expect(pushes).toHaveLength(4);
      // The session file outlives the launch: it is pi's history, kept in the runner's state.
      expect(existsSync(join(second.env.PI_CODING_AGENT_SESSION_DIR as string, "s.jsonl"))).toBe(true);
    });
  }

  test("a launch that cannot be built leaves no private dir behind and withdraws its token", () => {
    const { fx, agents, pushes, tokens, wrap } = setup("broken", "development", {
      extraRoBinds: ["/no/such/pi"],
    });
    expect(thrown(() => wrap(fx.workspace, ["true"], { sessionId: "s" })).message).toBe(
      "extra read-only bind '/no/such/pi' does not exist",
    );
    expect(readdirSync(agents)).toEqual([]);
    expect(pushes.map((push) => push.op)).toEqual(["add", "remove"]);
    expect(pushes[0]?.token_hash).toBe(pushes[1]?.token_hash as string);
    expect(tokens.list()).toEqual([]);
  });

  test("a folder outside the workspace root starts nothing and withdraws its token", () => {
    const { fx, agents, pushes, tokens, wrap } = setup("outside", "strict");
    thrown(() => wrap(fx.home, ["true"], { sessionId: "s" }), "path_not_allowed");
    expect(existsSync(agents)).toBe(false);
    expect(pushes.map((push) => push.op)).toEqual(["add", "remove"]);
    expect(tokens.list()).toEqual([]);
  });

  test("a disabled sandbox runs the command as it is, with nothing made but its token", () => {
    const { fx, agents, pushes, tokens, wrap } = setup("disabled", "development");
    put(fx.systemFile, "enabled = false\n");
    const launch = wrap(fx.workspace, ["pi", "--mode", "rpc"], { sessionId: "s" });
    const token = launch.env[LLM_TOKEN_ENV] as string;
    expect(token).toMatch(/^oqtok_/);
    expect([launch.argv, launch.env]).toEqual([["pi", "--mode", "rpc"], { [LLM_TOKEN_ENV]: token }]);
    expect(existsSync(agents)).toBe(false);
    expect(tokens.list()).toEqual([{ token_hash: hashOf(token), session_id: "s" }]);
    launch.release();
    expect(pushes).toEqual([
      { type: "llm_token", op: "add", token_hash: hashOf(token), session_id: "s" },
      { type: "llm_token", op: "remove", token_hash: hashOf(token), session_id: "s" },
    ]);
    expect(tokens.list()).toEqual([]);
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
