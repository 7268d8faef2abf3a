import { expandHome } from "../config/paths.ts";
import { defaultHstrySocketPath, historyDbPath } from "../history/service/paths.ts";
import { startHstryService } from "../history/service/server.ts";
import { cliContext } from "./context.ts";

export const HSTRY_USAGE = `usage: oqto hstry [--config FILE] [--data-dir DIR] [--socket PATH] [--db PATH]

Runs the embedded history service (hstry-compatible gRPC over a unix socket, mode 0600) for this
Linux user. The runner starts it when no external hstry is configured.
  --socket PATH   unix socket (default $XDG_STATE_HOME/oqto/hstry.sock)
  --db PATH       SQLite database (default <data dir>/history.db)
  --parent-pid PID  stop when that process (the runner that started it) is gone`;

/** `oqto hstry`: serves until SIGTERM/SIGINT, then closes connections, the socket and the DB. */
export async function runHstryCommand(argv: string[]): Promise<number> {
  const ctx = cliContext(argv, {
    socket: { type: "string" },
    db: { type: "string" },
    "parent-pid": { type: "string" },
  });
  if (ctx.flags.help) {
    console.log(HSTRY_USAGE);
    return 0;
  }
  if (ctx.positionals.length > 0) {
    console.error(`oqto hstry: unexpected argument '${ctx.positionals[0]}'\n\n${HSTRY_USAGE}`);
    return 2;
  }
  const socketFlag = ctx.flags.socket as string | undefined;
  const dbFlag = ctx.flags.db as string | undefined;
  const socketPath = socketFlag ? expandHome(socketFlag) : defaultHstrySocketPath();
  const dbPath = dbFlag ? expandHome(dbFlag) : historyDbPath(ctx.dataDir);
  const log = (message: string) => console.error(`[hstry] ${message}`);

  let service: Awaited<ReturnType<typeof startHstryService>>;
  try {
    service = await startHstryService({ socketPath, dbPath, log });
  } catch (error) {
    console.error(`oqto hstry: ${(error as Error).message}`);
    return 1;
  }
  // Handlers first: whoever reads "listening" may signal at once.
  const stopped = new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
    const parent = Number(ctx.flags["parent-pid"]);
    if (parent > 0) {
      // Started by a runner: a runner that died abruptly (SIGKILL, or SIGTERM before its handlers,
      // even while this service was starting) must not leave it behind. Re-parented = runner gone.
      const check = () => {
        if (process.ppid !== parent) resolve();
      };
      check();
      setInterval(check, 500).unref();
    }
  });
  log(`listening on ${socketPath} (db ${dbPath})`);
  await stopped;
  log("shutting down");
  await service.stop();
  return 0;
}
