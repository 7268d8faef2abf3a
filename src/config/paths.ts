import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";

/** Expands a leading `~/` against `home` and makes the path absolute. */
export function expandHome(path: string, home = homedir()): string {
  if (path === "~") return home;
  if (path.startsWith("~/")) return join(home, path.slice(2));
  return isAbsolute(path) ? path : resolve(path);
}

function xdg(variable: string, fallback: string): string {
  const value = process.env[variable];
  return value && isAbsolute(value) ? value : join(homedir(), fallback);
}

export const defaultDataDir = (): string => join(xdg("XDG_DATA_HOME", ".local/share"), "oqto");
export const defaultConfigFile = (): string => join(xdg("XDG_CONFIG_HOME", ".config"), "oqto", "config.toml");
/** The global sandbox file in single-user mode (SANDBOX.md §1), separate from config.toml on purpose. */
export const defaultSandboxFile = (): string =>
  join(xdg("XDG_CONFIG_HOME", ".config"), "oqto", "sandbox.toml");

/** Every path derived from the data dir, in one place. */
export function dataPaths(dataDir: string) {
  return {
    dataDir,
    db: join(dataDir, "oqto.db"),
    jwtSecret: join(dataDir, "jwt-secret"),
    runDir: join(dataDir, "run"),
    runnerSocket: join(dataDir, "run", "runner.sock"),
    runnerState: join(dataDir, "runner"),
  };
}
export type DataPaths = ReturnType<typeof dataPaths>;
