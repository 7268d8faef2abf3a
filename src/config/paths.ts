import { existsSync } from "node:fs";
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
/** The administrator's system-wide sandbox file; when present it wins over the data dir's. */
export const ETC_SANDBOX_FILE = "/etc/oqto/sandbox.toml";

/** Every path derived from the data dir, in one place. */
export function dataPaths(dataDir: string) {
  return {
    dataDir,
    db: join(dataDir, "oqto.db"),
    jwtSecret: join(dataDir, "jwt-secret"),
    /** The secret provider keys are sealed with (KeyVault), unless OQTO_KEY_ENCRYPTION_SECRET is set. */
    keyVaultSecret: join(dataDir, "provider-keys.secret"),
    runDir: join(dataDir, "run"),
    runnerSocket: join(dataDir, "run", "runner.sock"),
    runnerState: join(dataDir, "runner"),
    /** Used when ETC_SANDBOX_FILE is absent; written with the default at first start. */
    sandboxFile: join(dataDir, "sandbox.toml"),
  };
}
export type DataPaths = ReturnType<typeof dataPaths>;

/**
 * The sandbox policy the runner enforces: only where no sandboxed process can write, create or
 * rename a parent (root's /etc, or the data dir every sandbox hides), never in the home.
 */
export function systemSandboxFile(dataDir: string, etcFile = ETC_SANDBOX_FILE): string {
  return existsSync(etcFile) ? etcFile : dataPaths(dataDir).sandboxFile;
}

/** Where install.sh puts the service's config. */
export const INSTALLED_ETC_DIR = "/etc/oqto";

/**
 * The config a maintenance command (doctor, status, backup) reads: `--config`, else the user's own,
 * else the installed service's, so that root on a service install needs no flag. `explicit` is
 * whether the file must exist (a default that is missing means the built-in defaults).
 */
export function maintenanceConfigFile(
  flag: string | undefined,
  etcDir = INSTALLED_ETC_DIR,
): { file: string; explicit: boolean } {
  if (flag) return { file: expandHome(flag), explicit: true };
  const own = defaultConfigFile();
  const installed = join(etcDir, "config.toml");
  if (!existsSync(own) && existsSync(installed)) return { file: installed, explicit: true };
  return { file: own, explicit: false };
}
