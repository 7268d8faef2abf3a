import { homedir } from "node:os";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { loadConfig } from "../config/load.ts";
import {
  defaultConfigFile,
  defaultDataDir,
  expandHome,
  INSTALLED_ETC_DIR,
  maintenanceConfigFile,
} from "../config/paths.ts";
import type { DoctorCheck } from "../doctor/check.ts";
import { runDoctorChecks } from "../doctor/run.ts";
import { selfCommand } from "../shared/self-command.ts";

export const DOCTOR_USAGE = `usage: oqto doctor [--config FILE] [--data-dir DIR] [--json] [--etc-dir DIR] [--proc-sys DIR]

Checks whether this host can run Oqto, and why not: the config and the global sandbox file,
bubblewrap and user namespaces (by starting a real sandbox), pi and Bun, the server port, an
external hstry or eavs, the service user, the data dir, /etc/oqto and the multi-user runtime dir,
disk space, systemd, the clock and the last backup. Each check prints ok, warn or fail, with a fix
for warn and fail. Writes nothing.
The config is --config, else $XDG_CONFIG_HOME/oqto/config.toml, else /etc/oqto/config.toml.
--json          print a JSON array of {check, status, detail, fix?} instead
--etc-dir DIR   read DIR instead of /etc/oqto (a staged tree, tests)
--proc-sys DIR  read the kernel switches from DIR instead of /proc/sys (tests)
Exit code 0 when no check failed, 1 otherwise.`;

/**
 * The flags are read before the config so that a broken config is reported as a failed check
 * (with --json and --data-dir honoured) instead of aborting the doctor.
 */
function doctorFlags(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: "string" },
      "data-dir": { type: "string" },
      "etc-dir": { type: "string" },
      "proc-sys": { type: "string" },
      help: { type: "boolean", short: "h" },
      json: { type: "boolean" },
    },
    strict: true,
    allowPositionals: false,
  });
  return values;
}

function formatTable(checks: DoctorCheck[]): string {
  const width = Math.max(...checks.map((check) => check.check.length));
  const lines = checks.flatMap((check) => {
    const line = `${check.status.padEnd(4)}  ${check.check.padEnd(width)}  ${check.detail}`;
    const indent = " ".repeat(6 + width + 2);
    return check.fix ? [line, `${indent}fix: ${check.fix}`] : [line];
  });
  const count = (status: DoctorCheck["status"]) => checks.filter((check) => check.status === status).length;
  const summary = `${count("ok")} ok, ${count("warn")} warning(s), ${count("fail")} failed`;
  return `${lines.join("\n")}\n\n${summary}`;
}

export async function runDoctor(argv: string[]): Promise<number> {
  const flags = doctorFlags(argv);
  if (flags.help) {
    console.log(DOCTOR_USAGE);
    return 0;
  }
  const etcDir = flags["etc-dir"] ? expandHome(flags["etc-dir"]) : INSTALLED_ETC_DIR;
  const config = maintenanceConfigFile(flags.config, etcDir);
  const checks = await runDoctorChecks({
    loadConfig: () => loadConfig(config.file, config.explicit),
    configFile: config.file,
    ...(flags["data-dir"] ? { dataDirFlag: expandHome(flags["data-dir"]) } : {}),
    defaultDataDir: defaultDataDir(),
    etcDir,
    procSysDir: flags["proc-sys"] ? expandHome(flags["proc-sys"]) : "/proc/sys",
    path: process.env.PATH ?? "",
    home: homedir(),
    configDir: dirname(defaultConfigFile()),
    self: selfCommand(),
    env: process.env,
  });
  console.log(flags.json ? JSON.stringify(checks, null, 2) : formatTable(checks));
  return checks.some((check) => check.status === "fail") ? 1 : 0;
}
