/**
 * What the attack suite aims at: secrets in the stack's home, a real second Linux user with a
 * readable home, and a TCP listener on the host's loopback that records who reached it.
 */
import { chmodSync, chownSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { runProcess } from "../../helpers/run-process.ts";
import { connectCommand, connectOutcome } from "./attacks.ts";

function put(path: string, text: string, mode = 0o600): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, text, { mode });
}

function hex(bytes: number): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("hex");
}

export interface PlantedSecrets {
  ssh: string;
  aws: string;
  gnupg: string;
}

/** Writes `~/.ssh/id_rsa`, `~/.aws/credentials` and `~/.gnupg/secring`, each with its own marker. */
export function plantSecrets(home: string): PlantedSecrets {
  const secrets = { ssh: `SSH-KEY-${hex(8)}`, aws: `AWS-SECRET-${hex(8)}`, gnupg: `GPG-SECRING-${hex(8)}` };
  put(join(home, ".ssh/id_rsa"), `-----BEGIN OPENSSH PRIVATE KEY-----\n${secrets.ssh}\n`);
  put(join(home, ".aws/credentials"), `[default]\naws_secret_access_key = ${secrets.aws}\n`);
  put(join(home, ".gnupg/secring"), `${secrets.gnupg}\n`);
  return secrets;
}

/** What `~/.bashrc` and `~/.profile` hold before the attacks; nothing may change it. */
export const LOGIN_FILE_TEXT = "# the user's own login script\n";

/**
 * The places an escape would aim at, made to exist: login scripts, `~/.config` with an autostart
 * dir, and the user's own pi config with a login token.
 */
export function plantLoginFiles(home: string): void {
  put(join(home, ".bashrc"), LOGIN_FILE_TEXT, 0o644);
  put(join(home, ".profile"), LOGIN_FILE_TEXT, 0o644);
  mkdirSync(join(home, ".config/autostart"), { recursive: true, mode: 0o700 });
  put(
    join(home, ".pi/agent/auth.json"),
    `{"anthropic": {"type": "oauth", "access": "PI-LOGIN-${hex(8)}"}}\n`,
  );
  mkdirSync(join(home, ".pi/agent/extensions"), { recursive: true, mode: 0o700 });
}

export interface OtherUser {
  name: string;
  home: string;
  /** Content of `<home>/marker.txt` (mode 0644). */
  marker: string;
  /** `userdel -r`; safe to call twice. */
  remove: () => void;
}

function run(argv: string[]): void {
  const result = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (!result.success) throw new Error(`${argv.join(" ")}: ${result.stderr.toString().trim()}`);
}

/** A real Linux user `oqtoatk_<hex>` whose home is open to everyone (0755, marker 0644). Needs root. */
export function createOtherUser(): OtherUser {
  const name = `oqtoatk_${hex(4)}`;
  const home = `/home/${name}`;
  run(["useradd", "--create-home", "--home-dir", home, "--user-group", "--shell", "/usr/sbin/nologin", name]);
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    Bun.spawnSync(["userdel", "-r", name], { stdout: "ignore", stderr: "ignore" });
  };
  try {
    const marker = `OTHER-USER-FILE-${hex(8)}`;
    chmodSync(home, 0o755);
    const file = join(home, "marker.txt");
    writeFileSync(file, `${marker}\n`, { mode: 0o644 });
    const uid = Number(Bun.spawnSync(["id", "-u", name]).stdout.toString().trim());
    const gid = Number(Bun.spawnSync(["id", "-g", name]).stdout.toString().trim());
    chownSync(file, uid, gid);
    return { name, home, marker, remove };
  } catch (error) {
    remove();
    throw error;
  }
}

export interface LoopbackListener {
  port: number;
  /** Everything any client sent so far. */
  received: () => string;
  stop: () => void;
}

/** A TCP listener on the host's 127.0.0.1 that records what it receives. */
export function listenOnLoopback(): LoopbackListener {
  let received = "";
  const decoder = new TextDecoder();
  const listener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(_socket, data) {
        received += decoder.decode(data);
      },
    },
  });
  return { port: listener.port, received: () => received, stop: () => listener.stop(true) };
}

export interface SocketListener {
  path: string;
  /** Connections accepted so far. */
  connections: () => number;
  stop: () => void;
}

/**
 * A unix socket where another user's runner would listen (`~/.local/share/oqto/run/runner.sock`),
 * owned by that user with the runner's modes (dirs 0700, socket 0600), counting connections.
 */
export function listenAsRunnerOf(user: OtherUser): SocketListener {
  const runDir = join(user.home, ".local/share/oqto/run");
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  const path = join(runDir, "runner.sock");
  let connections = 0;
  const listener = Bun.listen({ unix: path, socket: { open: () => void connections++, data: () => {} } });
  chmodSync(path, 0o600);
  const uid = Number(Bun.spawnSync(["id", "-u", user.name]).stdout.toString().trim());
  const gid = Number(Bun.spawnSync(["id", "-g", user.name]).stdout.toString().trim());
  for (const dir of [".local", ".local/share", ".local/share/oqto", ".local/share/oqto/run"]) {
    chownSync(join(user.home, dir), uid, gid);
  }
  chownSync(path, uid, gid);
  return { path, connections: () => connections, stop: () => listener.stop(true) };
}

/** How the host itself fares connecting to `hostAndPort` with the agent's own command. */
export async function hostConnectOutcome(hostAndPort: string): Promise<string> {
  const { stdout, stderr } = await runProcess(["bash", "-c", connectCommand(hostAndPort, "probe")]);
  return connectOutcome(stdout + stderr);
}

/** A random tag for this run (files written outside the stack's temp dir carry it). */
export function runTag(): string {
  return `oqto-pwned-${hex(4)}`;
}
