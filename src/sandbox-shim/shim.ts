/**
 * `oqto sandbox-shim`: the in-sandbox half of the LLM bridge (SANDBOX.md §5). A network-isolated
 * sandbox has only its own loopback, so the shim listens there and relays every connection to a
 * unix socket the runner bound in from outside; then it runs the agent with inherited stdio and
 * exits with its status. Only Node/Bun built-ins are imported: this is on every agent's start path.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { constants } from "node:os";
import { parseArgs } from "node:util";

export const SANDBOX_SHIM_USAGE = `usage: oqto sandbox-shim --forward 127.0.0.1:PORT=SOCKET [--forward ...] -- COMMAND [ARGS...]

Started by the runner inside a network-isolated sandbox, not by hand: listens on the sandbox's own
loopback, relays each connection to the unix SOCKET bound in from outside (the runner's LLM bridge),
runs COMMAND with inherited stdio and signals, and exits with its status.`;

export interface Forward {
  port: number;
  socket: string;
}

class ShimUsageError extends Error {}

/** `127.0.0.1:PORT=/abs/socket`: loopback only, the one address the sandbox has. */
export function parseForward(spec: string): Forward {
  const match = /^127\.0\.0\.1:(\d{1,5})=(\/.+)$/.exec(spec);
  const port = Number(match?.[1]);
  if (!match?.[2] || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ShimUsageError(`--forward expects 127.0.0.1:PORT=/absolute/socket/path, got '${spec}'`);
  }
  return { port, socket: match[2] };
}

/** Open relayed connections, destroyed when the agent exits so that nothing keeps the shim alive. */
const open = new Set<Socket>();

function relay(forward: Forward): Promise<Server> {
  const server = createServer((client) => {
    const upstream = createConnection(forward.socket);
    open.add(client).add(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    // Either side failing or closing ends the pair; pi sees a dropped connection and reports it.
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(forward.port, "127.0.0.1", () => resolve(server));
  });
}

/** The exit status a shell would report: the code, or 128 + the signal number. */
function exitStatus(code: number | null, signal: string | number | null): number {
  if (code !== null) return code;
  if (typeof signal === "number") return 128 + signal;
  const number = signal ? constants.signals[signal as keyof typeof constants.signals] : undefined;
  return 128 + (number ?? 1);
}

export async function runSandboxShim(argv: string[]): Promise<number> {
  let forwards: Forward[];
  let command: string[];
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { forward: { type: "string", multiple: true }, help: { type: "boolean" } },
      allowPositionals: true,
    });
    if (values.help) {
      console.log(SANDBOX_SHIM_USAGE);
      return 0;
    }
    forwards = (values.forward ?? []).map(parseForward);
    command = positionals;
    if (forwards.length === 0) throw new ShimUsageError("at least one --forward is required");
    if (command.length === 0) throw new ShimUsageError("no command after --");
  } catch (error) {
    console.error(`oqto sandbox-shim: ${(error as Error).message}\n\n${SANDBOX_SHIM_USAGE}`);
    return 2;
  }

  let servers: Server[];
  try {
    servers = await Promise.all(forwards.map(relay));
  } catch (error) {
    console.error(`oqto sandbox-shim: cannot listen for the LLM bridge: ${(error as Error).message}`);
    return 1;
  }
  // Handlers first: a signal that arrives while the child is being spawned must not kill the shim
  // (and so leave the agent without it); it is passed on as soon as the child exists.
  let child: ReturnType<typeof Bun.spawn> | undefined;
  const early: NodeJS.Signals[] = [];
  const forwardSignal = (signal: NodeJS.Signals) => (child ? child.kill(signal) : early.push(signal));
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(signal, forwardSignal);
  child = Bun.spawn(command, { stdio: ["inherit", "inherit", "inherit"], env: process.env });
  for (const signal of early) child.kill(signal);
  const code = await child.exited;
  for (const server of servers) server.close();
  for (const socket of open) socket.destroy();
  return exitStatus(child.signalCode === null ? code : null, child.signalCode);
}
