import { parseArgs } from "node:util";
import { ClientError, EXIT } from "../client/client-error.ts";
import { reportFailure } from "../client/command-failure.ts";
import { credentialsFile, normalizeServerUrl } from "../client/credentials.ts";
import { cliKeyName, loginWithPassword, loginWithToken, logout } from "../client/login.ts";
import { askHidden, askLine, readSecretLine } from "../client/terminal-input.ts";

export const LOGIN_USAGE = `usage: oqto login --server URL [--username NAME] [--password-stdin]
       oqto login --server URL --token-stdin
       oqto logout

Signs in to an Oqto server and stores a personal API key for this machine (named cli@<hostname>)
in $XDG_CONFIG_HOME/oqto/credentials.json (mode 0600, directory 0700), for oqto run and oqto sessions.
Asks for the username and password on the terminal (the password without echo); scripts pass
--username and the password on stdin with --password-stdin, or an existing API key on stdin with
--token-stdin. Secrets are never taken from arguments, where other users could read them.
OQTO_URL and OQTO_TOKEN, when set, are used instead of the stored file.
oqto logout revokes the key oqto login made and removes the file.
Exit codes: 0 ok, 1 refused, 2 usage, 3 wrong credentials, 4 server unreachable.`;

const FLAGS = {
  server: { type: "string" },
  username: { type: "string", short: "u" },
  "password-stdin": { type: "boolean" },
  "token-stdin": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

async function credentialsFromUser(
  username: string | undefined,
  passwordStdin: boolean,
): Promise<{ username: string; password: string }> {
  if (passwordStdin) {
    if (username === undefined) throw new ClientError("--password-stdin needs --username", EXIT.usage);
    return { username, password: await readSecretLine("password") };
  }
  if (!process.stdin.isTTY)
    throw new ClientError("stdin is not a terminal: pass --username and --password-stdin", EXIT.usage);
  const name = username ?? (await askLine("username: "));
  if (name === "") throw new ClientError("no username given", EXIT.usage);
  return { username: name, password: await askHidden("password: ") };
}

/** `oqto login`: returns the exit code. */
export async function runLogin(argv: string[]): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: FLAGS,
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      console.log(LOGIN_USAGE);
      return EXIT.ok;
    }
    if (positionals.length > 0) throw new ClientError(`unexpected argument '${positionals[0]}'`, EXIT.usage);
    if (values.server === undefined) throw new ClientError("--server URL is required", EXIT.usage);
    const server = normalizeServerUrl(values.server);
    if (values["token-stdin"]) {
      if (values["password-stdin"] || values.username !== undefined)
        throw new ClientError("--token-stdin takes no --username or --password-stdin", EXIT.usage);
      const stored = await loginWithToken(server, await readSecretLine("token"));
      console.log(`logged in to ${server} as ${stored.username}; the token is in ${credentialsFile()}`);
      return EXIT.ok;
    }
    const stored = await loginWithPassword(server, () =>
      credentialsFromUser(values.username, values["password-stdin"] === true),
    );
    console.log(
      `logged in to ${server} as ${stored.username}; the API key "${cliKeyName()}" is in ${credentialsFile()}`,
    );
    return EXIT.ok;
  } catch (error) {
    return reportFailure("oqto login", error);
  }
}

/** `oqto logout`: returns the exit code. */
export async function runLogout(argv: string[]): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { help: FLAGS.help },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      console.log(LOGIN_USAGE);
      return EXIT.ok;
    }
    if (positionals.length > 0) throw new ClientError(`unexpected argument '${positionals[0]}'`, EXIT.usage);
    console.log(await logout());
    return EXIT.ok;
  } catch (error) {
    return reportFailure("oqto logout", error);
  }
}
