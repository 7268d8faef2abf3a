/**
 * What `agentSandbox` adds around pi beyond the profile: a transpiler cache per workspace that one
 * workspace's agent can write but no other workspace's sandbox can see.
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUILTIN_PROFILE_NAMES } from "../../src/runner/sandbox/profile-schema.ts";
import { agentSandbox } from "../../src/runner/sandbox/wrap.ts";
import { runProcess } from "../helpers/run-process.ts";
import { buildHome } from "./helpers.ts";

const root = mkdtempSync(join(tmpdir(), "oqto-as-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

for (const profile of BUILTIN_PROFILE_NAMES) {
  test(`${profile}: each workspace's pi gets its own writable transpiler cache, invisible to other workspaces`, async () => {
    const fx = buildHome(join(root, profile, "home"), profile);
    const other = join(fx.home, "oqto", "other");
    mkdirSync(other, { recursive: true });
    const cacheRoot = join(root, profile, "cache");
    const wrap = agentSandbox({
      systemFile: fx.systemFile,
      home: fx.home,
      multiUser: false,
      hiddenPaths: [],
      cacheRoot,
      bridge: {
        root: join(root, profile, "llm"),
        agentDir: join(fx.home, ".pi", "agent"),
        shimCommand: [process.execPath, join(import.meta.dir, "../../src/cli/main.ts"), "sandbox-shim"],
        shimPaths: [join(import.meta.dir, "../../src")],
        log: () => {},
      },
    });
    const otherCache = wrap(other, ["true"]);
    otherCache.release();
    const otherDir = otherCache.env.BUN_RUNTIME_TRANSPILER_CACHE_PATH as string;

    const script = `echo cached > "$BUN_RUNTIME_TRANSPILER_CACHE_PATH/probe" && echo own=ok; ls "${otherDir}" >/dev/null 2>&1 && echo other=visible || echo other=hidden`;
    const launch = wrap(fx.bareWorkspace, ["/bin/sh", "-c", script]);
    try {
      const own = launch.env.BUN_RUNTIME_TRANSPILER_CACHE_PATH as string;
      expect(own.startsWith(`${cacheRoot}/`)).toBe(true);
      expect(own).not.toBe(otherDir);
      const {
        stdout: out,
        stderr,
        code,
      } = await runProcess(launch.argv, {
        env: { HOME: fx.home, PATH: process.env.PATH ?? "", ...launch.env },
      });
      expect(stderr).toBe("");
      expect(code).toBe(0);
      expect(out).toContain("own=ok");
      expect(out).toContain("other=hidden");
      expect(readFileSync(join(own, "probe"), "utf8")).toBe("cached\n");
      expect(existsSync(join(otherDir, "probe"))).toBe(false);
    } finally {
      launch.release();
    }
  });
}
