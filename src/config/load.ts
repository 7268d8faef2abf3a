import { existsSync, readFileSync } from "node:fs";
import type { z } from "zod";
import { type Config, ConfigSchema } from "./schema.ts";

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Formats zod issues so that an unknown key reads "unknown key 'server.prot'". */
function describeIssues(error: z.ZodError, file: string): string {
  const lines = error.issues.map((issue) => {
    const at = issue.path.join(".");
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => `unknown key '${at ? `${at}.` : ""}${key}'`).join("; ");
    }
    return `${at || "(root)"}: ${issue.message}`;
  });
  return `invalid config ${file}: ${lines.join("; ")}`;
}

/** Parses config from a TOML string. Throws ConfigError naming the offending key. */
export function parseConfig(toml: string, file = "<inline>"): Config {
  let raw: unknown;
  try {
    raw = Bun.TOML.parse(toml);
  } catch (error) {
    throw new ConfigError(`cannot parse ${file}: ${(error as Error).message}`);
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(describeIssues(parsed.error, file));
  return parsed.data;
}

/**
 * Loads the config file. An explicitly named file must exist; the default location is optional.
 */
export function loadConfig(file: string, explicit: boolean): Config {
  if (!existsSync(file)) {
    if (explicit) throw new ConfigError(`config file not found: ${file}`);
    return ConfigSchema.parse({});
  }
  return parseConfig(readFileSync(file, "utf8"), file);
}
