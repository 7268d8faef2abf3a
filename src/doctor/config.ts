import { existsSync } from "node:fs";
import type { Config } from "../config/schema.ts";
import { type DoctorCheck, errorMessage, fail, ok } from "./check.ts";
import type { DoctorOptions } from "./host.ts";

/** The config as serve and runner load it: every key known, every value valid. */
export function checkConfig(options: DoctorOptions): { result: DoctorCheck; config?: Config } {
  try {
    const config = options.loadConfig();
    const detail = existsSync(options.configFile)
      ? `${options.configFile} loaded${config.server.multi_user ? " (multi-user mode)" : ""}`
      : `${options.configFile} not present; built-in defaults apply`;
    return { result: ok("config", detail), config };
  } catch (error) {
    return {
      result: fail(
        "config",
        errorMessage(error),
        `correct or remove the key named above in ${options.configFile} (docs/CONFIGURATION.md lists every key)`,
      ),
    };
  }
}
