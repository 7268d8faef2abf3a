import { parseArgs } from "node:util";
import { ClientError, EXIT } from "../client/client-error.ts";
import { reportFailure } from "../client/command-failure.ts";
import { resolveCredentials } from "../client/credentials.ts";
import { OqtoClient } from "../client/http-client.ts";
import { OqtoApi } from "../client/oqto-api.ts";
import { readStdin } from "../client/terminal-input.ts";
import { TurnRun } from "../client/turn-run.ts";
import { ThinkingLevel } from "../protocol/common.ts";

export const RUN_USAGE = `usage: oqto run [-w WORKSPACE] [-m PROVIDER/MODEL] [--thinking LEVEL] [--session ID] [--json] PROMPT...
       oqto run ... -        (the prompt from stdin)

Runs one turn of an agent on the server and streams it: the answer on stdout, tool calls, results,
errors and retries one line each on stderr. A new session is made in WORKSPACE (without -w: your
only workspace); --session continues an existing one. Ctrl-C aborts the turn on the server, a
second Ctrl-C quits at once.

  -w, --workspace NAME   workspace for a new session
  -m, --model ID         provider/model (or a model id of the default provider), new sessions only
  --thinking LEVEL       off, minimal, low, medium, high or xhigh, new sessions only
  --session ID           continue this session (oqto sessions list shows them)
  --json                 print the canonical events as JSON lines (PROTOCOL.md §1.4) instead of text

The server and token come from oqto login, or OQTO_URL and OQTO_TOKEN.
Exit codes: 0 the turn ended normally, 1 it failed or was aborted (or the server refused the
request), 2 usage, 3 not logged in or token rejected, 4 server unreachable or connection lost,
130 aborted with Ctrl-C.`;

const FLAGS = {
  workspace: { type: "string", short: "w" },
  model: { type: "string", short: "m" },
  thinking: { type: "string" },
  session: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

async function promptFrom(words: string[]): Promise<string> {
  const text = words.length === 1 && words[0] === "-" ? await readStdin() : words.join(" ");
  if (text.trim() === "")
    throw new ClientError(words.length === 0 ? "no prompt given" : "the prompt is empty", EXIT.usage);
  return text;
}

/** `oqto run`: returns the exit code. */
export async function runRun(argv: string[]): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: FLAGS,
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      console.log(RUN_USAGE);
      return EXIT.ok;
    }
    if (values.session !== undefined && (values.workspace ?? values.model ?? values.thinking) !== undefined)
      throw new ClientError(
        "-w, -m and --thinking choose a new session's settings: not with --session",
        EXIT.usage,
      );
    if (values.thinking !== undefined && !ThinkingLevel.safeParse(values.thinking).success)
      throw new ClientError(`--thinking must be one of ${ThinkingLevel.options.join(", ")}`, EXIT.usage);
    const prompt = await promptFrom(positionals);
    const { server, token } = resolveCredentials();
    const turn = new TurnRun(
      new OqtoApi(new OqtoClient(server, token)),
      {
        prompt,
        json: values.json === true,
        ...(values.session === undefined ? {} : { sessionId: values.session }),
        ...(values.workspace === undefined ? {} : { workspace: values.workspace }),
        ...(values.model === undefined ? {} : { model: values.model }),
        ...(values.thinking === undefined ? {} : { thinking: values.thinking }),
      },
      {
        stdout: (text) => process.stdout.write(text),
        stderr: (line) => process.stderr.write(`${line}\n`),
        stdoutIsTty: process.stdout.isTTY === true,
      },
    );
    let interrupts = 0;
    const onInterrupt = () => {
      interrupts += 1;
      if (interrupts > 1 || !turn.interrupt()) process.exit(EXIT.interrupted);
    };
    process.on("SIGINT", onInterrupt);
    try {
      return await turn.run();
    } finally {
      process.off("SIGINT", onInterrupt);
    }
  } catch (error) {
    return reportFailure("oqto run", error);
  }
}
