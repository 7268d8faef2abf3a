import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";

/** `$XDG_STATE_HOME/oqto/hstry.sock`: the embedded service's own path, never the one of an installed hstry. */
export function defaultHstrySocketPath(): string {
  const stateHome = process.env.XDG_STATE_HOME;
  const base = stateHome && isAbsolute(stateHome) ? stateHome : join(homedir(), ".local", "state");
  return join(base, "oqto", "hstry.sock");
}

/** The history DB inside the data dir (`$XDG_DATA_HOME/oqto/history.db` by default). */
export function historyDbPath(dataDir: string): string {
  return join(dataDir, "history.db");
}
