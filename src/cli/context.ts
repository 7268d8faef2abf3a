import { parseArgs } from "node:util";
import { loadConfig } from "../config/load.ts";
import { defaultConfigFile, defaultDataDir, expandHome } from "../config/paths.ts";
import type { Config } from "../config/schema.ts";

export type FlagSpec = Record<string, { type: "string" | "boolean"; short?: string }>;

/** Flags every subcommand honours (`--config FILE`, `--data-dir DIR`). */
const COMMON_FLAGS: FlagSpec = {
  config: { type: "string" },
  "data-dir": { type: "string" },
  help: { type: "boolean", short: "h" },
};

export interface CliContext {
  config: Config;
  dataDir: string;
  flags: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * Parses a subcommand's argv (unknown flags are errors) and loads the config it names.
 * Throws with a message meant for the terminal.
 */
export function cliContext(argv: string[], flags: FlagSpec = {}): CliContext {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...COMMON_FLAGS, ...flags },
    strict: true,
    allowPositionals: true,
  });
  const configFlag = values.config as string | undefined;
  const config = loadConfig(
    configFlag ? expandHome(configFlag) : defaultConfigFile(),
    configFlag !== undefined,
  );
  const dataDirFlag = values["data-dir"] as string | undefined;
  return {
    config,
    dataDir: dataDirFlag ? expandHome(dataDirFlag) : defaultDataDir(),
    flags: values as Record<string, string | boolean | undefined>,
    positionals,
  };
}

/** Reads a numeric flag, failing with the flag's name. */
export function portFlag(value: string | boolean | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new Error(`--${name} must be a port number (0-65535)`);
  return n;
}
