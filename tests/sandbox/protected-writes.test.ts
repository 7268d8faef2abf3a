/**
 * What no profile can make writable (docs/SECURITY.md): the home, the login files, Oqto's hidden
 * state and the workspace root. A writable bind that would contain or lie inside one of them
 * refuses the start, also when a symlink leads there.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import type { SandboxCommandOptions } from "../../src/runner/sandbox/argv-builder.ts";
import { customProfileCase, type HomeFixture, thrown } from "./helpers.ts";

let root: string;
let caseNumber = 0;
beforeAll(() => {
  root = mkdtempSync("/tmp/sbp-");
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/**
 * A fresh home whose global profile grants `allowWrite`; `arrange` shapes the home first (the
 * loader skips nothing, and the builder only binds what exists, so the targets are made here).
 */
function attempt(allowWrite: string[], arrange: (fx: HomeFixture) => void = () => {}) {
  const list = allowWrite.map((path) => JSON.stringify(path)).join(", ");
  const { fx, argv } = customProfileCase(
    join(root, String(caseNumber++), "home"),
    `allow_write = [${list}]`,
    arrange,
  );
  return {
    fx,
    build: argv,
    error: (overrides: Partial<SandboxCommandOptions> = {}) => thrown(() => argv(overrides)),
  };
}

const mkdir = (path: string) => mkdirSync(path, { recursive: true });

describe("no writable bind may cover the home", () => {
  test("allow_write = ['~'] or ['/']", () => {
    const home = attempt(["~"]);
    expect(home.error().message).toBe(`allow_write '${home.fx.home}' would make the whole home writable`);
    const slash = attempt(["/"]);
    expect(slash.error().message).toBe("allow_write '/' would make the whole home writable");
  });

  test("a configured read-write bind of the home's parent", () => {
    const { fx, error } = attempt([]);
    const parent = dirname(fx.home);
    expect(error({ extraRwBinds: [parent] }).message).toBe(
      `read-write bind '${join(parent)}' would make the whole home writable`,
    );
  });
});

describe("no writable bind may cover or lie inside a login path", () => {
  test("allow_write = ['~/.config'] would expose ~/.config/autostart", () => {
    const { fx, error } = attempt(["~/.config"]);
    expect(error().message).toBe(
      `allow_write '${fx.home}/.config' would make '${fx.home}/.config/autostart' writable inside the sandbox`,
    );
  });

  for (const [path, guarded] of [
    ["~/.config/systemd/user", ".config/systemd"],
    ["~/.bashrc", ".bashrc"],
    ["~/.ssh", ".ssh"],
  ] as const) {
    test(`allow_write = ['${path}'] is refused`, () => {
      const { fx, error } = attempt([path], (f) => mkdir(join(f.home, ".config", "systemd", "user")));
      expect(error().message).toBe(
        `allow_write '${fx.home}/${path.slice(2)}' would make '${fx.home}/${guarded}' writable inside the sandbox`,
      );
    });
  }

  test("a login path reached through a symlink: ~/.config → ~/dotfiles/config", () => {
    const { fx, error } = attempt(["~/dotfiles"], (f) => {
      mkdir(join(f.home, "dotfiles"));
      renameSync(join(f.home, ".config"), join(f.home, "dotfiles", "config"));
      mkdir(join(f.home, "dotfiles", "config", "autostart"));
      symlinkSync("dotfiles/config", join(f.home, ".config"));
    });
    expect(error().message).toBe(
      `allow_write '${fx.home}/dotfiles' would make '${fx.home}/dotfiles/config/autostart' writable inside the sandbox`,
    );
  });

  // bwrap follows the link when it mounts, so the bind would land on ~/.config.
  test("an allow_write entry that is a symlink to ~/.config", () => {
    const { error } = attempt(["~/link"], (f) => symlinkSync(".config", join(f.home, "link")));
    expect(error().message).toContain("writable inside the sandbox");
  });

  // Not yet created, but its parent leads into the writable dir: the agent could make it there.
  test("a login path not yet created below a symlinked ~/.config", () => {
    const { error } = attempt(["~/dotfiles"], (f) => {
      mkdir(join(f.home, "dotfiles"));
      renameSync(join(f.home, ".config"), join(f.home, "dotfiles", "config"));
      symlinkSync("dotfiles/config", join(f.home, ".config"));
    });
    expect(error().message).toContain("writable inside the sandbox");
  });
});

describe("no writable bind may cover or lie inside Oqto's hidden state", () => {
  test("allow_write = ['~/.local/share'] would expose the data dir", () => {
    const { fx, error } = attempt(["~/.local/share"]);
    expect(error().message).toBe(
      `allow_write '${fx.home}/.local/share' would make '${fx.dataDir}' writable inside the sandbox`,
    );
  });

  test("allow_write inside the data dir, and a configured read-write bind there", () => {
    const { fx, error } = attempt(["~/.local/share/oqto/runner"], (f) => mkdir(join(f.dataDir, "runner")));
    expect(error().message).toBe(
      `allow_write '${fx.dataDir}/runner' would make '${fx.dataDir}' writable inside the sandbox`,
    );
    const other = attempt([], (f) => mkdir(join(f.dataDir, "run")));
    expect(other.error({ extraRwBinds: [join(other.fx.dataDir, "run")] }).message).toBe(
      `read-write bind '${other.fx.dataDir}/run' would make '${other.fx.dataDir}' writable inside the sandbox`,
    );
  });

  test("a hidden path that is a symlink is guarded where it leads", () => {
    const { fx, error } = attempt(["~/state"], (f) => {
      mkdir(join(f.home, "state"));
      symlinkSync("state", join(f.home, "state-link"));
    });
    expect(error({ hiddenPaths: [join(fx.home, "state-link")] }).message).toBe(
      `allow_write '${fx.home}/state' would make '${fx.home}/state' writable inside the sandbox`,
    );
  });
});

describe("no writable bind but the own workspace may cover the workspace root", () => {
  test("allow_write = ['~/oqto'] and a configured read-write bind of the root", () => {
    const { fx, error } = attempt(["~/oqto"]);
    expect(error().message).toBe(`allow_write '${fx.workspaceRoot}' would make the workspace root writable`);
    const configured = attempt([]);
    expect(configured.error({ extraRwBinds: [configured.fx.workspaceRoot] }).message).toBe(
      `read-write bind '${configured.fx.workspaceRoot}' would make the workspace root writable`,
    );
  });

  test("the own workspace, a place beside the root and /tmp are fine", () => {
    const { fx, build } = attempt(["~/.cache", "/tmp"], (f) => mkdir(join(f.home, ".cache")));
    const argv = build();
    expect(argv.join(" ")).toContain(`--bind ${fx.home}/.cache ${fx.home}/.cache`);
    expect(argv.join(" ")).toContain(`--bind ${fx.workspace} ${fx.workspace}`);
  });
});
