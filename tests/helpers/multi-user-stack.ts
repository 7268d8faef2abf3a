/**
 * The whole product in multi-user mode, as root: `oqto serve --multi-user` (the privileged helper)
 * runs the web server as a service user made for the stack, and each platform user gets a Linux
 * user `oqto_<name>` and a runner of their own, under a home base of the stack's. The admin is
 * made with the CLI, the fake provider through the REST API; users register with invite codes.
 * Everything the stack made (accounts, runners, dirs) is removed by `stop`.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { processesOf } from "../../src/privileged/linux-users.ts";
import { type FakeLlm, startFakeLlm } from "../fixtures/fake-llm.ts";
import { removeLinuxUser, uidOfUser } from "./linux-processes.ts";
import { runProcess } from "./run-process.ts";
import { spawnServe } from "./stack.ts";

const REPO = resolve(import.meta.dir, "../..");
const COMMAND = [process.execPath, join(REPO, "src/cli/main.ts")];

export interface MultiUserStack {
  baseUrl: string;
  /** serve's data dir (the service user's: platform DB, key vault secret). */
  dataDir: string;
  wsUrl: string;
  fakeLlm: FakeLlm;
  admin: { username: string; password: string; token: string };
  /** Where the accounts' homes are: `<homeBase>/oqto_<name>`. */
  homeBase: string;
  runtimeDir: string;
  serviceUser: string;
  serve: Subprocess;
  logs: () => string;
  /** An invite from the admin, then registration: resolves with the new user's token. */
  register: (username: string, password: string) => Promise<string>;
  /** Sends `signal` to `oqto serve` (the root process), waits for it and its server to end. */
  killServe: (signal: NodeJS.Signals) => Promise<void>;
  /** Starts `oqto serve --multi-user` again on the same port and data. */
  startServe: () => Promise<void>;
  stop: () => Promise<void>;
}

/** Every account whose home is under `homeBase`: the ones this stack's helper made. */
function accountsUnder(homeBase: string): string[] {
  return readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .map((line) => line.split(":"))
    .filter((fields) => fields[5]?.startsWith(`${homeBase}/`))
    .map((fields) => fields[0] ?? "");
}

export interface MultiUserStackOptions {
  /** More keys for the `[multi_user]` table (e.g. `runner_idle_s = 2`). */
  multiUserConfig?: string;
  /** The fake provider's key as the admin enters it (default "fake-key"). */
  providerKey?: string;
}

export async function startMultiUserStack(options: MultiUserStackOptions = {}): Promise<MultiUserStack> {
  if (process.getuid?.() !== 0) throw new Error("multi-user mode needs root");
  const root = mkdtempSync("/var/tmp/oqto-mu-");
  // As /home and /run are: users pass through to what is theirs.
  chmodSync(root, 0o755);
  const homeBase = join(root, "home");
  const runtimeDir = join(root, "run");
  mkdirSync(homeBase, { mode: 0o755 });
  const serviceUser = `oqtotsvc_${Buffer.from(crypto.getRandomValues(new Uint8Array(3))).toString("hex")}`;
  const dataDir = join(root, "data");
  const fakeLlm = await startFakeLlm();
  const configFile = join(root, "config.toml");
  writeFileSync(
    configFile,
    `[server]
host = "127.0.0.1"
port = 0
multi_user = true

[multi_user]
service_user = "${serviceUser}"
home_base = ${JSON.stringify(homeBase)}
runtime_dir = ${JSON.stringify(runtimeDir)}
log_dir = ${JSON.stringify(join(root, "log"))}
${options.multiUserConfig ?? ""}

# The warm pool (its own tests: tests/runner/pi-pool.test.ts, tests/e2e/warm-pool.test.ts) would start a
# spare pi per user beside every session here.
[runner]
pool_size = 0

[pi]
extra_args = ["--no-context-files", "--no-extensions", "--no-skills", "--no-prompt-templates", "--no-themes"]
`,
    { mode: 0o644 },
  );
  const common = ["--config", configFile, "--data-dir", dataDir];
  const env = { PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin", HOME: root };
  const admin = { username: "boss", password: "correct-horse-battery", token: "" };
  const added = await runProcess(
    [...COMMAND, "user", "add", admin.username, "--admin", "--password-stdin", ...common],
    {
      env,
      stdin: `${admin.password}\n`,
    },
  );
  if (added.code !== 0) throw new Error(`user add failed: ${added.stderr}`);

  const output: string[] = [];
  let port = 0;
  let serve!: Subprocess<"ignore", "pipe", "pipe">;
  const startServe = async () => {
    ({ serve, port } = await spawnServe(
      [...COMMAND, "serve", ...common, ...(port > 0 ? ["--port", String(port)] : [])],
      env,
      output,
    ));
  };
  await startServe();
  const baseUrl = `http://127.0.0.1:${port}`;
  const json = (token: string, method: string, path: string, body?: unknown) =>
    fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const login = await fetch(`${baseUrl}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: admin.username, password: admin.password }),
  });
  if (login.status !== 200) throw new Error(`admin login failed: ${login.status} ${await login.text()}`);
  admin.token = ((await login.json()) as { token: string }).token;
  const provider = await json(admin.token, "POST", "/api/admin/providers", {
    name: "fake",
    api: "openai-completions",
    base_url: fakeLlm.url,
    api_key: options.providerKey ?? "fake-key",
    models: ["fake-model"],
  });
  if (provider.status !== 201) throw new Error(`provider setup failed: ${provider.status}`);

  const killServe = async (signal: NodeJS.Signals) => {
    const serverUid = uidOfUser(serviceUser);
    serve.kill(signal);
    await serve.exited;
    // The web server notices its helper is gone and stops: wait for that too.
    const deadline = Date.now() + 10_000;
    while (serverUid !== null && processesOf(serverUid).length > 0 && Date.now() < deadline)
      await Bun.sleep(50);
  };

  return {
    baseUrl,
    dataDir,
    wsUrl: `ws://127.0.0.1:${port}/api/ws/mux`,
    fakeLlm,
    admin,
    homeBase,
    runtimeDir,
    serviceUser,
    get serve() {
      return serve;
    },
    logs: () => output.join(""),
    register: async (username, password) => {
      const invite = await json(admin.token, "POST", "/api/admin/invite-codes", { max_uses: 1 });
      const { invites } = (await invite.json()) as { invites: { code: string }[] };
      const res = await fetch(`${baseUrl}/api/auth/register`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username, password, invite_code: invites[0]?.code }),
      });
      if (res.status !== 201) throw new Error(`register ${username}: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { token: string }).token;
    },
    killServe,
    startServe,
    stop: async () => {
      if (serve.exitCode === null) await killServe("SIGTERM");
      fakeLlm.stop();
      for (const name of [...accountsUnder(homeBase), serviceUser]) await removeLinuxUser(name);
      rmSync(root, { recursive: true, force: true });
      // Nothing of the stack's is left in the account databases.
      const left = accountsUnder(homeBase);
      if (left.length > 0) throw new Error(`accounts left behind: ${left.join(", ")}`);
    },
  };
}
