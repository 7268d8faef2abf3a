import { readFileSync } from "node:fs";
import { ConfigError } from "../../config/load.ts";

/** Short enough to guess is too short: the token opens the metrics to whoever holds it. */
export const MIN_METRICS_TOKEN_LENGTH = 32;

/** The metrics bearer token from `[server] metrics_token_file` (one line); a ConfigError says what is wrong. */
export function readMetricsToken(path: string): string {
  let token: string;
  try {
    token = readFileSync(path, "utf8").trim();
  } catch (error) {
    throw new ConfigError(
      `[server] metrics_token_file ${path} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  if (token.length < MIN_METRICS_TOKEN_LENGTH || /\s/.test(token)) {
    throw new ConfigError(
      `[server] metrics_token_file ${path} must hold one token of at least ${MIN_METRICS_TOKEN_LENGTH} characters without spaces (e.g. openssl rand -hex 32)`,
    );
  }
  return token;
}
