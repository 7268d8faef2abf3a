import { ConfigError } from "../config/load.ts";

export interface UnitPaths {
  /** The installed `oqto` binary. */
  binary: string;
  configFile: string;
  /** From `[multi_user]`: every path the service must be able to write. */
  dataDir: string;
  logDir: string;
  homeBase: string;
  runtimeDir: string;
}

/** Characters a unit line takes as they are: no quoting, no specifiers (`%`), no word splitting. */
const PLAIN_PATH = /^\/[A-Za-z0-9._/+-]*$/;

/**
 * `oqto.service` for a multi-user install: the one copy of the unit, printed for install.sh by
 * `oqto install-info --systemd-unit`. Why each hardening directive is or is not here:
 * docs/OPERATIONS.md "The unit". In short, the service starts as root (its helper runs `useradd` and
 * starts runners as other users), and every agent runs inside it, under bubblewrap.
 */
export function systemdUnit(paths: UnitPaths): string {
  for (const [name, path] of Object.entries(paths))
    if (!PLAIN_PATH.test(path))
      throw new ConfigError(
        `${name} '${path}' cannot go into a systemd unit as it is: use letters, digits, . _ - + / only`,
      );
  // systemd makes (and at stop removes) a runtime directory under /run; elsewhere it is a path to write.
  const underRun = paths.runtimeDir.startsWith("/run/");
  const writable = [
    // useradd/userdel write passwd, group, shadow, gshadow, subuid, subgid by renaming new files over them.
    "/etc",
    paths.dataDir,
    paths.logDir,
    paths.homeBase,
    ...(underRun ? [] : [paths.runtimeDir]),
    // useradd resets the new uid's entries where these exist.
    "-/var/log/lastlog",
    "-/var/log/faillog",
  ];
  return `# Oqto, multi-user: written by install.sh (oqto install-info --systemd-unit) and rewritten on
# upgrade; put local changes in a drop-in (systemctl edit oqto). Why each directive: docs/OPERATIONS.md.
[Unit]
Description=Oqto, a self-hosted multi-user platform for AI agents
After=network-online.target
Wants=network-online.target
StartLimitIntervalSec=60
StartLimitBurst=5

[Service]
Type=simple
ExecStart=${paths.binary} serve --multi-user --config ${paths.configFile}
Environment=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
Environment=LANG=C.UTF-8
Restart=on-failure
RestartSec=2s
# Stop ends every process of the service: the web server, the helper, and the runners, pi
# processes, history services and terminals (runners are setsid'd, but stay in this cgroup).
KillMode=control-group
TimeoutStopSec=30s
StandardOutput=journal
StandardError=journal
SyslogIdentifier=oqto
LimitNOFILE=65536
${underRun ? `RuntimeDirectory=${paths.runtimeDir.slice("/run/".length)}\nRuntimeDirectoryMode=0755\n` : ""}NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=${writable.join(" ")}
PrivateTmp=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
ProtectHostname=yes
LockPersonality=yes
RestrictRealtime=yes
SystemCallArchitectures=native

[Install]
WantedBy=multi-user.target
`;
}
