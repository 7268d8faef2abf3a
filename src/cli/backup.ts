import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { BackupError, createBackup, defaultBackupName } from "../backup/create-backup.ts";
import { type InstallLayout, installLayout } from "../backup/layout.ts";
import { restoreBackup } from "../backup/restore-backup.ts";
import { TarError } from "../backup/tar.ts";
import { RestoreRefused } from "../backup/verify-backup.ts";
import { ConfigError, loadConfig } from "../config/load.ts";
import { defaultDataDir, expandHome, maintenanceConfigFile } from "../config/paths.ts";
import { VERSION } from "./version.ts";

const COMMON = `[--config FILE] [--data-dir DIR] [--run-as USER]`;

export const BACKUP_USAGE = `usage: oqto backup [--out FILE] ${COMMON}

Writes one file (a gzip'd tar, default ./oqto-backup-<UTC time>.tar.gz) with a consistent snapshot
of the platform database, every user's history database (single-user: the runner's; multi-user:
each oqto_<name> account's), the config file, the sandbox file, the JWT secret and the provider-key
secret, taken while Oqto runs (SQLite VACUUM INTO, never a file copy of a live database), and a
manifest with every file's sha256. Workspaces are not in it: back up the homes with your file backup.
The file is SECRET: it holds password hashes, the JWT secret and the secret the provider keys are
sealed with. It is made mode 0600; keep it where only root can read it.
Records the backup in <data dir>/last-backup.json (oqto doctor warns when it is old).
As root on a service install, the config is /etc/oqto/config.toml unless --config says otherwise.
--run-as USER   single-user as root: the runner's user, as given to oqto serve --run-as`;

export const RESTORE_USAGE = `usage: oqto restore FILE [--force] [--no-config] ${COMMON}

Restores a backup made by oqto backup onto this install, laid out as this install's config says.
First the whole file is checked in a private staging dir (manifest, every sha256 and size, every
database's SQLite integrity check): a corrupt or truncated file is refused and nothing is changed.
Refuses while a server, runner or history service of this install runs (stop it first), and refuses
to replace existing data that differs from the backup unless --force, which moves those files aside
(renamed *.pre-restore-<UTC time>, never deleted). Multi-user needs root: each history database goes
back to its oqto_<name> account, made (as the server makes it at registration) when missing.
Then start the server: users, sessions and their history are back.
--force         move existing, different files aside instead of refusing
--no-config     keep this install's config.toml and sandbox.toml; restore the data and secrets only
--run-as USER   single-user as root: the runner's user, as given to oqto serve --run-as`;

const FLAGS = {
  config: { type: "string" },
  "data-dir": { type: "string" },
  "run-as": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

function layoutFrom(values: { config?: string; "data-dir"?: string; "run-as"?: string }): InstallLayout {
  const { file, explicit } = maintenanceConfigFile(values.config);
  const config = loadConfig(file, explicit);
  const dataDir = values["data-dir"]
    ? expandHome(values["data-dir"])
    : config.server.multi_user
      ? config.multi_user.data_dir
      : defaultDataDir();
  return installLayout({ config, configFile: file, dataDir, runAs: values["run-as"] });
}

/** One line on stderr: refusals say what to do; a failed system call (EACCES, ENOSPC) names its path. */
function failure(command: string, error: unknown): number {
  if (error instanceof ConfigError) {
    console.error(`oqto ${command}: ${error.message}`);
    return 2;
  }
  const refused =
    error instanceof BackupError || error instanceof RestoreRefused || error instanceof TarError;
  const message = error instanceof Error ? error.message : String(error);
  console.error(`oqto ${command}: ${refused ? message : `failed: ${message}`}`);
  return 1;
}

export async function runBackup(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...FLAGS, out: { type: "string" } },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) {
    console.log(BACKUP_USAGE);
    return 0;
  }
  if (positionals.length > 0) {
    console.error(
      `oqto backup: unexpected argument '${positionals[0]}' (the file is --out FILE)\n\n${BACKUP_USAGE}`,
    );
    return 2;
  }
  const now = new Date();
  try {
    const result = await createBackup({
      layout: layoutFrom(values),
      out: values.out ? expandHome(values.out) : resolve(defaultBackupName(now)),
      oqtoVersion: VERSION,
      progress: (line) => console.error(`oqto backup: ${line}`),
      now,
    });
    for (const skipped of result.skipped) console.error(`oqto backup: no history taken for ${skipped}`);
    const { users, sessions, messages } = result.summary;
    console.log(
      `backup written: ${result.file} (${result.bytes} bytes, mode 0600, secret): ${users} users, ${sessions} sessions, ${messages} messages`,
    );
    return 0;
  } catch (error) {
    return failure("backup", error);
  }
}

export async function runRestore(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...FLAGS, force: { type: "boolean" }, "no-config": { type: "boolean" } },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) {
    console.log(RESTORE_USAGE);
    return 0;
  }
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) {
    console.error(`oqto restore: expected exactly one backup FILE\n\n${RESTORE_USAGE}`);
    return 2;
  }
  try {
    const result = await restoreBackup({
      layout: layoutFrom(values),
      file: expandHome(file),
      force: values.force === true,
      keepConfig: values["no-config"] === true,
      progress: (line) => console.error(`oqto restore: ${line}`),
    });
    for (const aside of result.movedAside) console.error(`oqto restore: kept the old file as ${aside}`);
    for (const account of result.accountsCreated)
      console.error(`oqto restore: made the Linux account ${account}`);
    const { users, sessions, messages } = result.summary;
    console.log(
      `restored ${result.written.length} files (${result.unchanged.length} already identical): ${users} users, ${sessions} sessions, ${messages} messages; start the server`,
    );
    return 0;
  } catch (error) {
    return failure("restore", error);
  }
}
