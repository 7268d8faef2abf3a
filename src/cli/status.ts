import { defaultConfigFile, expandHome, maintenanceConfigFile } from "../config/paths.ts";
import { formatStatus } from "../status/format-status.ts";
import { readProcTable } from "../status/proc-table.ts";
import { gatherStatus } from "../status/status-report.ts";
import { cliContext } from "./context.ts";
import { VERSION } from "./version.ts";

export const STATUS_USAGE = `usage: oqto status [--config FILE] [--data-dir DIR] [--json]

Shows what runs for this install: the web server (pid, user, uptime, address, whether it answers,
version), in multi-user mode the privileged helper, each runner with its history service and pi
processes, and the open sessions. Processes come from /proc (root sees every user's listening
socket; others fall back to the config's address), the server's own figures from GET /api/health
and, with [server] metrics_token_file, GET /api/metrics.
The config is --config, else $XDG_CONFIG_HOME/oqto/config.toml, else /etc/oqto/config.toml.
--json   print the report as JSON
Exit code 0 when the server answers, 3 when it is not running, 1 when it runs but does not answer.`;

/** cliContext reads --config; the maintenance default (own config, else /etc/oqto's) is passed as one. */
function withConfigFlag(argv: string[]): string[] {
  if (argv.some((arg) => arg === "--config" || arg.startsWith("--config="))) return argv;
  const { file, explicit } = maintenanceConfigFile(undefined);
  return explicit ? [...argv, "--config", file] : argv;
}

export async function runStatus(argv: string[]): Promise<number> {
  const ctx = cliContext(withConfigFlag(argv), { json: { type: "boolean" } });
  if (ctx.flags.help) {
    console.log(STATUS_USAGE);
    return 0;
  }
  const { config } = ctx;
  const multiUser = config.server.multi_user;
  const dataDir =
    typeof ctx.flags["data-dir"] === "string" || !multiUser ? ctx.dataDir : config.multi_user.data_dir;
  const configFile =
    typeof ctx.flags.config === "string" ? expandHome(ctx.flags.config) : defaultConfigFile();
  const report = await gatherStatus({
    config,
    configFile,
    install: {
      configFile,
      dataDir,
      uid: process.getuid?.() ?? 0,
      multiUser,
      runtimeDir: config.multi_user.runtime_dir,
    },
    cliVersion: VERSION,
    table: readProcTable(),
    now: Date.now(),
  });
  console.log(ctx.flags.json ? JSON.stringify(report, null, 2) : formatStatus(report));
  if (report.server.reachable) return 0;
  return report.server.process ? 1 : 3;
}
