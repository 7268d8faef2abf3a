/**
 * Starts the whole product for end-to-end tests: the fake LLM, `oqto serve` (which starts its
 * runner, which starts real pi processes) in an isolated HOME, an admin user created with the
 * CLI, and the fake provider configured through the admin REST API. As root (CI), serve runs as
 * root with `--run-as` a real Linux user made for the stack, whose home is that HOME: the way
 * Oqto runs on a VPS.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { processesOf } from "../../src/privileged/linux-users.ts";
import { type FakeLlm, startFakeLlm } from "../fixtures/fake-llm.ts";
import { runProcess } from "./run-process.ts";

const REPO = resolve(import.meta.dir, "../..");

export interface StackOptions {
  /** Run this executable instead of `bun src/cli/main.ts` (e.g. the compiled dist/oqto). */
  binary?: string;
  /** Extra TOML appended to the generated config. */
  extraConfig?: string;
  /** Extra keys for the `[server]` table. */
  serverConfig?: string;
  /**
   * Keys for the `[runner]` table. Without a `pool_size` here the warm pool is off: every test's
   * sessions would otherwise start a spare pi each, doubling the suite's pi starts (the pool has its
   * own tests).
   */
  runnerConfig?: string;
  /** Without root, keep serve's data dir where a single-user install has it, `~/.local/share/oqto` (as root the runner's is there). */
  dataDirInHome?: boolean;
  /** Skip configuring the fake provider (implied when `extraConfig` has an `[eavs]` table: eavs has the providers). */
  noProvider?: boolean;
  /** Pre-writes the system sandbox file (`<runner data dir>/sandbox.toml`) with this profile. */
  globalSandboxProfile?: string;
  /** Environment entries for serve, its runner and the CLI, over the defaults (e.g. a PATH without bwrap). */
  env?: Record<string, string>;
  /** pi's `extra_args` instead of the hardening default (e.g. without `--no-prompt-templates`, to discover `.pi/prompts`). */
  piExtraArgs?: string[];
}

const PI_TEST_ARGS = [
  "--no-context-files",
  "--no-extensions",
  "--no-skills",
  "--no-prompt-templates",
  "--no-themes",
];

export interface Stack {
  baseUrl: string;
  wsUrl: string;
  fakeLlm: FakeLlm;
  admin: { username: string; password: string; token: string };
  workspaceRoot: string;
  /** serve's data dir. */
  dataDir: string;
  /** The runner's (its socket, state and sandbox file): serve's unless it runs as another user. */
  runnerDataDir: string;
  home: string;
  /** The Linux user the runner runs as when the tests run as root (serve --run-as). */
  runAs?: TestUser;
  /** Hands a path the test made (as root) to the runner's user, so its agents own it as they would their own. */
  own: (path: string) => void;
  /** Output of the serve process (and its runner) so far. */
  logs: () => string;
  serve: Subprocess;
  /** Runs `oqto <args>` with this stack's config and data dir. */
  cli: (args: string[], stdin?: string) => Promise<{ code: number; stdout: string; stderr: string }>;
  /** Adds a platform user with `oqto user add` and signs it in; resolves with its token. */
  addUser: (username: string, password: string) => Promise<string>;
  /** Kills `oqto serve` and starts it again on the same port and data. */
  restartServe: () => Promise<void>;
  stop: () => Promise<void>;
}

function commandFor(binary: string | undefined): string[] {
  return binary ? [binary] : [process.execPath, join(REPO, "src/cli/main.ts")];
}

async function drain(stream: ReadableStream<Uint8Array>, sink: string[]): Promise<void> {
  const decoder = new TextDecoder();
  for await (const chunk of stream) sink.push(decoder.decode(chunk, { stream: true }));
}

/** Reads `stream` into `sink` (on and on) and resolves once `pattern` matches what came, or after `timeoutMs`. */
async function readUntil(
  stream: ReadableStream<Uint8Array>,
  sink: string[],
  pattern: RegExp,
  timeoutMs: number,
) {
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  const deadline = Date.now() + timeoutMs;
  let match: RegExpExecArray | null = null;
  const pump = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      sink.push(decoder.decode(value, { stream: true }));
      if (!match) match = pattern.exec(sink.join(""));
    }
  })();
  while (!match && Date.now() < deadline) await Bun.sleep(25);
  return { match: match as RegExpExecArray | null, pump };
}

/** Starts `oqto serve` with `argv`, its output into `output`; resolves once it listens, with its port. */
export async function spawnServe(
  argv: string[],
  env: Record<string, string>,
  output: string[],
): Promise<{ serve: Subprocess<"ignore", "pipe", "pipe">; port: number }> {
  const serve = Bun.spawn(argv, { env, stdout: "pipe", stderr: "pipe" });
  void drain(serve.stderr, output);
  const { match } = await readUntil(serve.stdout, output, /listening on http:\/\/127\.0\.0\.1:(\d+)/, 30_000);
  if (!match) throw new Error(`oqto serve did not start:\n${output.join("")}`);
  return { serve, port: Number(match[1]) };
}

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
  remove: () => void;
}

/** A real Linux user `oqtoe2e_<hex>` whose home is `home` (not created). Needs root. */
export function createTestUser(home: string, prefix = "oqtoe2e"): TestUser {
  const name = `${prefix}_${Buffer.from(crypto.getRandomValues(new Uint8Array(4))).toString("hex")}`;
  const added = Bun.spawnSync(
    ["useradd", "--no-create-home", "--home-dir", home, "--user-group", "--shell", "/usr/sbin/nologin", name],
    { stdout: "pipe", stderr: "pipe" },
  );
  if (!added.success) throw new Error(`useradd ${name}: ${added.stderr.toString().trim()}`);
  const id = (flag: string) => Number(Bun.spawnSync(["id", flag, name]).stdout.toString().trim());
  const uid = id("-u");
  let removed = false;
  return {
    name,
    uid,
    gid: id("-g"),
    remove: () => {
      if (removed) return;
      removed = true;
      // userdel refuses while the user has processes (a runner or pi a failed test left): end them first.
      for (let attempt = 0; attempt < 40; attempt++) {
        for (const pid of processesOf(uid)) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // gone since the listing
          }
        }
        if (Bun.spawnSync(["userdel", name], { stdout: "ignore", stderr: "ignore" }).exitCode !== 8) return;
        Bun.sleepSync(50);
      }
    },
  };
}

function chownTree(path: string, user: TestUser): void {
  const result = Bun.spawnSync(["chown", "-R", `${user.uid}:${user.gid}`, path], { stderr: "pipe" });
  if (!result.success) throw new Error(`chown ${path}: ${result.stderr.toString().trim()}`);
}

/** The stack's runner runs this checkout's code as another user: say so plainly when it cannot read it. */
function assertCheckoutReadableByOthers(): void {
  const probe = Bun.spawnSync(
    [
      "setpriv",
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      "--",
      "test",
      "-r",
      join(REPO, "src/cli/main.ts"),
    ],
    { stdout: "ignore", stderr: "ignore" },
  );
  if (!probe.success) {
    throw new Error(
      `other users cannot read ${REPO}, but as root the runner runs as one: run bash scripts/test-all.sh (it tests a readable copy) or move the checkout`,
    );
  }
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  if (process.getuid?.() === 0) assertCheckoutReadableByOthers();
  const root = mkdtempSync("/tmp/oqto-e2e-");
  const home = join(root, "home");
  const runAs = process.getuid?.() === 0 ? createTestUser(home) : undefined;
  try {
    return await startStackIn(options, root, home, runAs);
  } catch (error) {
    runAs?.remove();
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
}

async function startStackIn(
  options: StackOptions,
  root: string,
  home: string,
  runAs: TestUser | undefined,
): Promise<Stack> {
  // serve refuses a data dir its runner's user could change, so as root it stays outside the home.
  const dataDir = options.dataDirInHome && !runAs ? join(home, ".local/share/oqto") : join(root, "data");
  const runnerDataDir = runAs ? join(home, ".local/share/oqto") : dataDir;
  const workspaceRoot = join(root, "ws");
  for (const dir of [home, dataDir, runnerDataDir, workspaceRoot]) mkdirSync(dir, { recursive: true });
  if (options.globalSandboxProfile !== undefined) {
    writeFileSync(
      join(runnerDataDir, "sandbox.toml"),
      `profile = ${JSON.stringify(options.globalSandboxProfile)}\n`,
    );
  }
  const fakeLlm = await startFakeLlm();
  const configFile = join(root, "config.toml");
  writeFileSync(
    configFile,
    `[server]
host = "127.0.0.1"
port = 0
workspace_root = ${JSON.stringify(workspaceRoot)}
${options.serverConfig ?? ""}

[runner]
${options.runnerConfig?.includes("pool_size") ? "" : "pool_size = 0"}
${options.runnerConfig ?? ""}

[pi]
extra_args = ${JSON.stringify(options.piExtraArgs ?? PI_TEST_ARGS)}
session_dir = ${JSON.stringify(join(root, "pi-sessions"))}
${options.extraConfig ?? ""}
`,
  );
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_DATA_HOME: join(home, ".local/share"),
    XDG_STATE_HOME: join(home, ".local/state"),
    ...options.env,
  };
  const base = [...commandFor(options.binary)];
  const common = ["--config", configFile, "--data-dir", dataDir];
  if (runAs) {
    // The user gets its home, workspaces and pi session dir; serve's data and config stay root's.
    chmodSync(root, 0o755);
    mkdirSync(join(root, "pi-sessions"));
    for (const dir of [home, workspaceRoot, join(root, "pi-sessions")]) chownTree(dir, runAs);
  }
  const own = (path: string) => {
    if (runAs) chownTree(path, runAs);
  };

  const cli: Stack["cli"] = (args, stdin) =>
    runProcess([...base, ...args, ...common], { env, ...(stdin === undefined ? {} : { stdin }) });

  const addWithCli = async (username: string, password: string, role: "admin" | "user") => {
    const roleArgs = role === "admin" ? ["--admin"] : [];
    const added = await cli(["user", "add", username, ...roleArgs, "--password-stdin"], `${password}\n`);
    if (added.code !== 0) throw new Error(`user add ${username} failed: ${added.stderr}`);
  };
  const admin = { username: "admin", password: "correct-horse-battery", token: "" };
  await addWithCli(admin.username, admin.password, "admin");

  const output: string[] = [];
  let port = 0;
  let serve: Subprocess<"ignore", "pipe", "pipe">;
  const launch = async (fixedPort: number) => {
    const portArgs = fixedPort > 0 ? ["--port", String(fixedPort)] : [];
    const runAsArgs = runAs ? ["--run-as", runAs.name] : [];
    ({ serve, port } = await spawnServe(
      [...base, "serve", ...common, ...portArgs, ...runAsArgs],
      env,
      output,
    ));
  };
  await launch(0);
  const baseUrl = () => `http://127.0.0.1:${port}`;

  const signIn = async (username: string, password: string) => {
    const login = await fetch(`${baseUrl()}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, password }),
    });
    if (login.status !== 200) throw new Error(`login failed: ${login.status} ${await login.text()}`);
    return ((await login.json()) as { token: string }).token;
  };
  admin.token = await signIn(admin.username, admin.password);

  // In eavs mode the providers are eavs' and POST /api/admin/providers is a 409.
  const eavsMode = /^\s*\[eavs\]\s*$/m.test(options.extraConfig ?? "");
  if (!options.noProvider && !eavsMode) {
    const res = await fetch(`${baseUrl()}/api/admin/providers`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${admin.token}` },
      body: JSON.stringify({
        name: "fake",
        api: "openai-completions",
        base_url: fakeLlm.url,
        api_key: "fake-key",
        models: ["fake-model", "fake-model-2"],
      }),
    });
    if (res.status !== 201) throw new Error(`provider setup failed: ${res.status} ${await res.text()}`);
  }

  const stopServe = async () => {
    serve.kill("SIGTERM");
    const killer = setTimeout(() => serve.kill("SIGKILL"), 8000);
    await serve.exited;
    clearTimeout(killer);
  };

  return {
    get baseUrl() {
      return baseUrl();
    },
    get wsUrl() {
      return `ws://127.0.0.1:${port}/api/ws/mux`;
    },
    get serve() {
      return serve;
    },
    fakeLlm,
    admin,
    workspaceRoot,
    dataDir,
    runnerDataDir,
    home,
    ...(runAs ? { runAs } : {}),
    own,
    logs: () => output.join(""),
    cli,
    addUser: async (username, password) => {
      await addWithCli(username, password, "user");
      return signIn(username, password);
    },
    restartServe: async () => {
      await stopServe();
      await launch(port);
    },
    stop: async () => {
      await stopServe();
      fakeLlm.stop();
      rmSync(root, { recursive: true, force: true });
      runAs?.remove();
    },
  };
}
