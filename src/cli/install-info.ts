import pkg from "../../package.json" with { type: "json" };
import { ConfigError } from "../config/load.ts";
import { expandHome } from "../config/paths.ts";
import { PINNED_PI_VERSION } from "../shared/pinned-pi.ts";
import { cliContext } from "./context.ts";
import { systemdUnit } from "./systemd-unit.ts";

export const INSTALL_INFO_USAGE = `usage: oqto install-info [--config FILE] [--systemd-unit]

Prints, one key=value a line, what install.sh needs to know about this build and the config:
the versions (this binary's, the pinned pi's), the listen address, the mode, and the paths of
[multi_user]. The installer reads the config through this command so that the systemd unit and
the directories it makes follow the file, which is validated on the way (unknown keys are errors).
With --systemd-unit it prints the multi-user unit instead, for this binary and that config.`;

export async function runInstallInfo(argv: string[]): Promise<number> {
  const ctx = cliContext(argv, { "systemd-unit": { type: "boolean" } });
  if (ctx.flags.help) {
    console.log(INSTALL_INFO_USAGE);
    return 0;
  }
  const { server, multi_user: multiUser } = ctx.config;
  const paths = {
    dataDir: expandHome(multiUser.data_dir),
    homeBase: expandHome(multiUser.home_base),
    runtimeDir: expandHome(multiUser.runtime_dir),
    logDir: expandHome(multiUser.log_dir),
  };
  if (ctx.flags["systemd-unit"] === true) {
    if (typeof ctx.flags.config !== "string") throw new ConfigError("--systemd-unit needs --config FILE");
    const configFile = expandHome(ctx.flags.config);
    process.stdout.write(systemdUnit({ binary: process.execPath, configFile, ...paths }));
    return 0;
  }
  const values: Record<string, string> = {
    version: pkg.version,
    pi_version: PINNED_PI_VERSION,
    host: server.host,
    port: String(server.port),
    multi_user: String(server.multi_user),
    run_as: server.run_as ?? "",
    service_user: multiUser.service_user,
    data_dir: paths.dataDir,
    home_base: paths.homeBase,
    runtime_dir: paths.runtimeDir,
    log_dir: paths.logDir,
  };
  // The installer reads these line by line: a line break would forge a line.
  for (const [key, value] of Object.entries(values))
    if (/[\n\r]/.test(value)) throw new ConfigError(`${key} must not contain a line break`);
  console.log(
    Object.entries(values)
      .map(([key, value]) => `${key}=${value}`)
      .join("\n"),
  );
  return 0;
}
