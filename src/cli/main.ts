#!/usr/bin/env bun
// A module (it awaits at top level), though it exports nothing.
export {};

/**
 * Modules load lazily: `oqto sandbox-shim` sits on every sandboxed agent's start path, and run from
 * source inside a sandbox it may import nothing outside src/ (not even package.json).
 */
const COMMANDS: Record<string, { summary: string; run: (argv: string[]) => Promise<number> }> = {
  serve: {
    summary: "run the web server (HTTP + WebSocket relay, embedded UI)",
    run: async (argv) => (await import("./serve.ts")).runServe(argv),
  },
  runner: {
    summary: "run the per-user runner (started by serve in single-user mode)",
    run: async (argv) => (await import("./runner.ts")).runRunner(argv),
  },
  hstry: {
    summary: "run the embedded history service (started by the runner)",
    run: async (argv) => (await import("./hstry.ts")).runHstryCommand(argv),
  },
  user: {
    summary: "manage users: add | list | disable | enable | passwd | role | delete (oqto user --help)",
    run: async (argv) => (await import("./user.ts")).runUserCommand(argv),
  },
  invite: {
    summary: "invite codes: create | list | revoke (oqto invite --help)",
    run: async (argv) => (await import("./invite.ts")).runInviteCommand(argv),
  },
  doctor: {
    summary: "check whether this host can run agents, and why not",
    run: async (argv) => (await import("./doctor.ts")).runDoctor(argv),
  },
  backup: {
    summary: "write a consistent backup of the databases, config and secrets to one file",
    run: async (argv) => (await import("./backup.ts")).runBackup(argv),
  },
  restore: {
    summary: "restore a backup made by oqto backup (verified first; --force to move data aside)",
    run: async (argv) => (await import("./backup.ts")).runRestore(argv),
  },
  status: {
    summary: "what runs: server, helper, runners, history services, pi processes, open sessions",
    run: async (argv) => (await import("./status.ts")).runStatus(argv),
  },
  login: {
    summary: "sign in to a server and store an API key for oqto run and oqto sessions",
    run: async (argv) => (await import("./login.ts")).runLogin(argv),
  },
  logout: {
    summary: "revoke the stored API key and forget it",
    run: async (argv) => (await import("./login.ts")).runLogout(argv),
  },
  run: {
    summary: "run one agent turn on a server, streamed to the terminal (oqto run --help)",
    run: async (argv) => (await import("./run.ts")).runRun(argv),
  },
  sessions: {
    summary: "your sessions on a server: list | show | search | rm (oqto sessions --help)",
    run: async (argv) => (await import("./sessions.ts")).runSessions(argv),
  },
  "install-info": {
    summary: "what install.sh reads: versions, the config's paths, the systemd unit (--systemd-unit)",
    run: async (argv) => (await import("./install-info.ts")).runInstallInfo(argv),
  },
  "sandbox-shim": {
    summary: "inside a network-isolated sandbox: relay the LLM bridge, run the agent",
    run: async (argv) => (await import("../sandbox-shim/shim.ts")).runSandboxShim(argv),
  },
};

async function usage(): Promise<string> {
  const [{ VERSION }, serve, runner, hstry] = await Promise.all([
    import("./version.ts"),
    import("./serve.ts"),
    import("./runner.ts"),
    import("./hstry.ts"),
  ]);
  const commands = Object.entries(COMMANDS)
    .map(([name, { summary }]) => `  ${name.padEnd(13)} ${summary}`)
    .join("\n");
  return `oqto ${VERSION}: a self-hosted platform for AI agents

usage: oqto <command> [options]

commands:
${commands}
  version       print the version

options every command on this machine's install honours (the client commands login, logout,
run and sessions talk to a server instead: OQTO_URL, OQTO_TOKEN, see their --help):
  --config FILE    TOML config (default $XDG_CONFIG_HOME/oqto/config.toml)
  --data-dir DIR   data directory (default $XDG_DATA_HOME/oqto)

${serve.SERVE_USAGE}

${runner.RUNNER_USAGE}

${hstry.HSTRY_USAGE}`;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "version" || command === "--version") {
    console.log((await import("./version.ts")).VERSION);
    return 0;
  }
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    console.log(await usage());
    return 0;
  }
  const entry = COMMANDS[command];
  if (!entry) {
    console.error(`oqto: unknown command '${command}'\n\n${await usage()}`);
    return 2;
  }
  return entry.run(rest);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  const { ConfigError } = await import("../config/load.ts");
  const known =
    error instanceof ConfigError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
  console.error(`oqto: ${known ? (error as Error).message : ((error as Error).stack ?? error)}`);
  process.exitCode = known ? 2 : 1;
}
