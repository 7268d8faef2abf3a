import { homedir } from "node:os";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { defaultConfigFile, defaultDataDir, expandHome, systemSandboxFile } from "../config/paths.ts";
import { cliContext, type FlagSpec } from "./context.ts";
import { type DoctorCheck, runDoctorChecks } from "./doctor-checks.ts";

export const DOCTOR_USAGE = `usage: oqto doctor [--config FILE] [--data-dir DIR] [--json]

Checks whether this host can run Oqto's agents, and why not: the config, the global sandbox
file, bubblewrap, user namespaces (by starting a real sandbox), pi, and the data directory.
Each check prints ok, warn or fail, with a fix for warn and fail. Writes nothing.
--json prints a JSON array of {check, status, detail, fix?} instead.
Exit code 0 when no check failed, 1 otherwise.`;

const DOCTOR_FLAGS: FlagSpec = { json: { type: "boolean" } };

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
  const dataDir = flags["data-dir"] ? expandHome(flags["data-dir"]) : defaultDataDir();
  const checks = runDoctorChecks({
    loadConfig: () => cliContext(argv, DOCTOR_FLAGS).config,
    configFile: flags.config ? expandHome(flags.config) : defaultConfigFile(),
    sandboxFile: systemSandboxFile(dataDir),
    dataDir,
    home: homedir(),
    hiddenPaths: [dataDir, dirname(defaultConfigFile())],
  });
  console.log(flags.json ? JSON.stringify(checks, null, 2) : formatTable(checks));
  return checks.some((check) => check.status === "fail") ? 1 : 0;
}
