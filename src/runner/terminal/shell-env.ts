import type { LoginAccount } from "./login-account.ts";

const DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";
/** xterm.js speaks UTF-8; a C locale would mangle every non-ASCII character. */
const DEFAULT_LANG = "C.UTF-8";

/**
 * The complete environment of a terminal shell, built from nothing rather than filtered from the
 * runner's: only what a login needs passes. In particular XDG_RUNTIME_DIR and
 * DBUS_SESSION_BUS_ADDRESS never do, since the user's systemd/D-Bus sockets would let the shell
 * start processes outside the sandbox (SANDBOX.md §4). LANG and PATH follow the runner's.
 */
export function shellEnv(
  account: LoginAccount,
  inherited: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  return {
    TERM: "xterm-256color",
    HOME: account.home,
    USER: account.username,
    LOGNAME: account.username,
    SHELL: account.shell,
    LANG: inherited.LANG || DEFAULT_LANG,
    PATH: inherited.PATH || DEFAULT_PATH,
  };
}
