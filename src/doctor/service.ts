import { existsSync, readFileSync } from "node:fs";
import { lookupAccount } from "../shared/linux-account.ts";
import { type DoctorCheck, fail, notChecked, ok, warn } from "./check.ts";
import { userName } from "./filesystem.ts";
import type { DoctorHost } from "./host.ts";

const UNIT = "oqto";
const SYSTEMCTL_TIMEOUT_MS = 5_000;

/** sd_booted(3): systemd is PID 1 exactly when this directory exists. */
export const underSystemd = (): boolean =>
  existsSync("/run/systemd/system") && Bun.which("systemctl") !== null;

function pid1(): string {
  try {
    return readFileSync("/proc/1/comm", "utf8").trim();
  } catch {
    return "unknown";
  }
}

/** The account the web server (multi-user) or the runner (`run_as`) runs as: present and not root. */
export function checkServiceUser(host: DoctorHost): DoctorCheck {
  const config = host.config;
  if (!config)
    return notChecked(
      "service-user",
      "the config did not load",
      "fix the config, then run oqto doctor again",
    );
  if (!host.multiUser) {
    const runAs = config.server.run_as;
    if (!runAs && host.uid === 0 && config.runner.supervise) {
      // serve's --run-as flag is not visible from here, so this is a warning, not a failure.
      return warn(
        "service-user",
        "single-user mode as root without [server] run_as: serve refuses to start unless given --run-as USER (agents never run as root)",
        `set run_as = "oqto" under [server] in ${host.options.configFile} (install.sh makes that user), run serve as an unprivileged user, or use multi-user mode`,
      );
    }
    if (!runAs)
      return ok("service-user", `single-user mode: serve and its runner run as ${userName(host.uid)}`);
    try {
      const account = lookupAccount(runAs);
      if (account.uid === 0) {
        return fail(
          "service-user",
          `[server] run_as = "${runAs}" is root`,
          "set run_as to an unprivileged user",
        );
      }
      return ok("service-user", `single-user mode: the runner runs as ${runAs} (uid ${account.uid})`);
    } catch {
      return fail(
        "service-user",
        `[server] run_as = "${runAs}", but there is no such Linux user`,
        `useradd --system --create-home --user-group --shell /usr/sbin/nologin ${runAs} (install.sh does)`,
      );
    }
  }
  const name = config.multi_user.service_user;
  const account = host.serviceAccount;
  if (!account) {
    return warn(
      "service-user",
      `the service user ${name} does not exist yet; serve --multi-user makes it at its first start`,
      `run install.sh, or: useradd --system --user-group --home-dir ${host.dataDir} --no-create-home --shell /usr/sbin/nologin ${name}`,
    );
  }
  if (account.uid === 0 || account.gid === 0) {
    return fail(
      "service-user",
      `the service user ${name} has uid ${account.uid}, gid ${account.gid}: the web server must not run as root`,
      "set [multi_user] service_user to an unprivileged system user",
    );
  }
  return ok(
    "service-user",
    `${name} (uid ${account.uid}, gid ${account.gid}): the web server runs as this user`,
  );
}

function systemctl(verb: string): string {
  const run = Bun.spawnSync(["systemctl", verb, UNIT], {
    stdout: "pipe",
    stderr: "pipe",
    timeout: SYSTEMCTL_TIMEOUT_MS,
  });
  return run.stdout?.toString().trim() ?? "";
}

/** `systemctl is-active/is-enabled oqto` when systemd is PID 1; elsewhere there is nothing to ask. */
export function checkSystemd(host: DoctorHost): DoctorCheck {
  if (!underSystemd()) {
    return ok(
      "systemd",
      `not under systemd (PID 1 is ${pid1()}): oqto serve is started by hand or by another supervisor`,
    );
  }
  const active = systemctl("is-active");
  const enabled = systemctl("is-enabled");
  if (enabled === "" || enabled === "not-found") {
    if (!host.installed) return ok("systemd", `no ${UNIT}.service: this is not a service install`);
    return warn(
      "systemd",
      `${UNIT}.service is not installed`,
      "run install.sh (it installs and starts the unit)",
    );
  }
  if (active !== "active") {
    return fail(
      "systemd",
      `${UNIT}.service is ${active || "unknown"} (${enabled})`,
      `systemctl start ${UNIT}; if it stops again, read why: journalctl -u ${UNIT} -e`,
    );
  }
  if (enabled !== "enabled") {
    return warn(
      "systemd",
      `${UNIT}.service is active but ${enabled}: it does not start at boot`,
      `systemctl enable ${UNIT}`,
    );
  }
  return ok("systemd", `${UNIT}.service is active and enabled`);
}
