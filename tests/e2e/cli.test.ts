/** The `oqto` command line: flags, config errors, and the first start with its setup token. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { runProcess } from "../helpers/run-process.ts";
import { createTestUser, type TestUser } from "../helpers/stack.ts";

const MAIN = resolve(import.meta.dir, "../../src/cli/main.ts");
const root = mkdtempSync("/tmp/oqto-cli-");
const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: root };
const oqto = (args: string[]) => runProcess([process.execPath, MAIN, ...args], { env });

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("oqto command line", () => {
  test("an unknown config key stops the server and names the key", async () => {
    const file = join(root, "bad.toml");
    writeFileSync(file, "[server]\nprot = 8080\n");
    const { code, stderr } = await oqto(["serve", "--config", file, "--data-dir", join(root, "d1")]);
    expect(code).toBe(2);
    expect(stderr).toContain("unknown key 'server.prot'");
  });

  test("a missing config file named with --config is an error", async () => {
    const { code, stderr } = await oqto(["runner", "--config", join(root, "absent.toml")]);
    expect(code).toBe(2);
    expect(stderr).toContain("config file not found");
  });

  test("unknown flags and commands are errors with usage", async () => {
    const flag = await oqto(["serve", "--bogus"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("bogus");
    const command = await oqto(["frobnicate"]);
    expect(command.code).toBe(2);
    expect(command.stderr).toContain("unknown command 'frobnicate'");
    const port = await oqto(["serve", "--port", "http"]);
    expect(port.code).toBe(1);
    expect(port.stderr).toContain("--port must be a port number");
  });

  test("the first start prints a one-time setup token that creates the first admin once", async () => {
    const dataDir = join(root, "first");
    // As root (CI) serve only starts with a user to run the runner as.
    let runAs: TestUser | undefined;
    if (process.getuid?.() === 0) {
      const home = join(root, "first-home");
      mkdirSync(home);
      runAs = createTestUser(home);
      Bun.spawnSync(["chown", `${runAs.uid}:${runAs.gid}`, home]);
    }
    const serve = Bun.spawn(
      [
        process.execPath,
        MAIN,
        "serve",
        "--port",
        "0",
        "--data-dir",
        dataDir,
        "--workspace-root",
        join(root, "first-home", "ws"),
        ...(runAs ? ["--run-as", runAs.name] : []),
      ],
      { env, stdout: "pipe", stderr: "ignore" },
    );
    try {
      let out = "";
      const decoder = new TextDecoder();
      for await (const chunk of serve.stdout) {
        out += decoder.decode(chunk);
        if (/one-time setup token[^\n]*\n\n\s+(\S+)/.test(out)) break;
      }
      const url = /listening on (\S+)/.exec(out)?.[1] as string;
      const token = /one-time setup token[^\n]*\n\n\s+(\S+)/.exec(out)?.[1] as string;
      expect(token.length).toBeGreaterThan(20);
      expect(
        ((await (await fetch(`${url}/api/auth/setup`)).json()) as { setup_required: boolean }).setup_required,
      ).toBe(true);
      const body = { setup_token: token, username: "first", password: "first-admin-password" };
      const setup = (payload: object) =>
        fetch(`${url}/api/auth/setup`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(payload),
        });
      const created = await setup(body);
      expect(created.status).toBe(201);
      expect(created.headers.get("set-cookie")).toContain("HttpOnly");
      expect(((await created.json()) as { user: { role: string } }).user.role).toBe("admin");
      expect((await setup({ ...body, username: "second" })).status).toBe(409);
    } finally {
      serve.kill("SIGTERM");
      await serve.exited;
      runAs?.remove();
    }
  });
});
