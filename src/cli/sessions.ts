import { parseArgs } from "node:util";
import { ClientError, EXIT } from "../client/client-error.ts";
import { reportFailure } from "../client/command-failure.ts";
import { resolveCredentials } from "../client/credentials.ts";
import { OqtoClient } from "../client/http-client.ts";
import { OqtoApi } from "../client/oqto-api.ts";
import { conversationText, searchRows, sessionRows } from "../client/session-views.ts";
import { SearchMode } from "../protocol/history.ts";
import { formatTable } from "./table.ts";

export const SESSIONS_USAGE = `usage: oqto sessions list [-w WORKSPACE] [--limit N] [--json]
       oqto sessions show ID [--limit N] [--json]
       oqto sessions search QUERY... [-w WORKSPACE] [--mode auto|natural|code] [--limit N] [--json]
       oqto sessions rm ID

Your sessions on the server: list them (newest first), show one's conversation (--limit: the last N
messages), search every message, or delete one with its history. --json prints the server's answer.
The server and token come from oqto login, or OQTO_URL and OQTO_TOKEN.
Exit codes: 0 ok, 1 refused (e.g. no such session), 2 usage, 3 not logged in or token rejected,
4 server unreachable.`;

const FLAGS = {
  workspace: { type: "string", short: "w" },
  limit: { type: "string" },
  mode: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

function limitFlag(raw: string | undefined, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new ClientError(`--limit must be a whole number from 1 to ${max}`, EXIT.usage);
  return n;
}

function print(json: boolean, value: unknown, text: () => string): void {
  console.log(json ? JSON.stringify(value, null, 2) : text());
}

/** `oqto sessions …`: returns the exit code. */
export async function runSessions(argv: string[]): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: FLAGS,
      allowPositionals: true,
      strict: true,
    });
    const [action, ...rest] = positionals;
    if (values.help) {
      console.log(SESSIONS_USAGE);
      return EXIT.ok;
    }
    const json = values.json === true;
    const only = (allowed: string[]) => {
      for (const flag of ["workspace", "limit", "mode", "json"] as const) {
        if (values[flag] !== undefined && !allowed.includes(flag))
          throw new ClientError(`${action} takes no --${flag}`, EXIT.usage);
      }
    };
    const oneId = () => {
      if (rest.length !== 1 || rest[0] === undefined)
        throw new ClientError(`${action} takes exactly one session id`, EXIT.usage);
      return rest[0];
    };
    const api = () => {
      const { server, token } = resolveCredentials();
      return new OqtoApi(new OqtoClient(server, token));
    };
    switch (action) {
      case "list": {
        only(["workspace", "limit", "json"]);
        if (rest.length > 0) throw new ClientError("list takes no arguments", EXIT.usage);
        const limit = limitFlag(values.limit, 500);
        const result = await api().sessions({
          ...(values.workspace === undefined ? {} : { workspace: values.workspace }),
          ...(limit === undefined ? {} : { limit }),
        });
        print(json, result, () =>
          result.sessions.length === 0 ? "no sessions" : formatTable(sessionRows(result.sessions)).join("\n"),
        );
        return EXIT.ok;
      }
      case "show": {
        only(["limit", "json"]);
        const id = oneId();
        const limit = limitFlag(values.limit, 10_000);
        const client = api();
        const session = await client.session(id);
        const messages = await client.messages(id, limit);
        print(json, { session, ...messages }, () => conversationText(session, messages.messages));
        return EXIT.ok;
      }
      case "search": {
        only(["workspace", "limit", "mode", "json"]);
        const q = rest.join(" ").trim();
        if (q === "") throw new ClientError("search needs a query", EXIT.usage);
        const mode = values.mode === undefined ? undefined : SearchMode.safeParse(values.mode);
        if (mode && !mode.success)
          throw new ClientError(`--mode must be one of ${SearchMode.options.join(", ")}`, EXIT.usage);
        const limit = limitFlag(values.limit, 200);
        const result = await api().search({
          q,
          ...(values.workspace === undefined ? {} : { workspace: values.workspace }),
          ...(mode?.success ? { mode: mode.data } : {}),
          ...(limit === undefined ? {} : { limit }),
        });
        print(json, result, () =>
          result.hits.length === 0 ? "no matches" : formatTable(searchRows(result.hits)).join("\n"),
        );
        return EXIT.ok;
      }
      case "rm": {
        only([]);
        const id = oneId();
        await api().deleteSession(id);
        console.log(`deleted ${id}`);
        return EXIT.ok;
      }
      default:
        throw new ClientError(
          action === undefined ? "expected list, show, search or rm" : `unknown action '${action}'`,
          EXIT.usage,
        );
    }
  } catch (error) {
    return reportFailure("oqto sessions", error);
  }
}
