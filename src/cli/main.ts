#!/usr/bin/env bun
import { ConfigError } from "../config/load.ts";
import { HSTRY_USAGE, runHstryCommand } from "../history/service/command.ts";
import { RUNNER_USAGE, runRunner } from "./runner.ts";
import { runServe, SERVE_USAGE } from "./serve.ts";
import { runUserCommand } from "./user.ts";
import { VERSION } from "./version.ts";

const USAGE = `oqto ${VERSION}: a self-hosted platform for AI agents

usage: oqto <command> [options]

commands:
  serve     run the web server (HTTP + WebSocket relay, embedded UI)
  runner    run the per-user runner (started by serve in single-user mode)
  hstry     run the embedded history service (started by the runner)
  user      manage users: user add NAME [--admin] --password-stdin | user list
  version   print the version

options every command honours:
  --config FILE    TOML config (default $XDG_CONFIG_HOME/oqto/config.toml)
  --data-dir DIR   data directory (default $XDG_DATA_HOME/oqto)

${SERVE_USAGE}

${RUNNER_USAGE}

${HSTRY_USAGE}`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "serve":
      return runServe(rest);
    case "runner":
      return runRunner(rest);
    case "hstry":
      return runHstryCommand(rest);
    case "user":
      return runUserCommand(rest);
    case "version":
    case "--version":
      console.log(VERSION);
      return 0;
    case undefined:
    case "help":
    case "--help":
    case "-h":
      console.log(USAGE);
      return 0;
    default:
      console.error(`oqto: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  const known =
    error instanceof ConfigError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
  console.error(`oqto: ${known ? (error as Error).message : ((error as Error).stack ?? error)}`);
  process.exitCode = known ? 2 : 1;
}
