import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { z } from "zod";
import { defaultConfigFile } from "../config/paths.ts";
import { ClientError, EXIT } from "./client-error.ts";

/** What `oqto login` keeps: one server and the personal API key made for this machine. */
export const StoredCredentials = z.strictObject({
  version: z.literal(1),
  server: z.string().min(1),
  token: z.string().min(1),
  username: z.string().optional(),
  /** The API key's id, so that `oqto logout` can revoke it; absent when the key was brought with --token-stdin. */
  key_id: z.string().optional(),
  created_at: z.number(),
});
export type StoredCredentials = z.infer<typeof StoredCredentials>;

/** Where a client command finds its server and token. */
export interface Credentials {
  server: string;
  token: string;
}

/** `$XDG_CONFIG_HOME/oqto/credentials.json`, beside the config file. */
export function credentialsFile(): string {
  return join(dirname(defaultConfigFile()), "credentials.json");
}

/**
 * A server address as the client uses it: http(s), no query or fragment, no trailing slash (a path
 * prefix is kept, for a server behind a reverse proxy under one).
 */
export function normalizeServerUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ClientError(`invalid server URL '${raw}': expected e.g. https://oqto.example.com`, EXIT.usage);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new ClientError(`invalid server URL '${raw}': only http:// and https:// are supported`, EXIT.usage);
  if (url.search || url.hash || url.username || url.password)
    throw new ClientError(
      `invalid server URL '${raw}': no query, fragment or user name in the address`,
      EXIT.usage,
    );
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/** The stored credentials, or undefined when there is no file; a corrupt or exposed file is an error. */
export function readStoredCredentials(file = credentialsFile()): StoredCredentials | undefined {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new ClientError(`cannot read ${file}: ${(error as Error).message}`, EXIT.auth);
  }
  // Like ssh with a private key: a token others can read is refused, not used.
  if ((mode & 0o077) !== 0)
    throw new ClientError(
      `${file} is readable by others (mode ${(mode & 0o777).toString(8)}): run chmod 600 ${file}`,
      EXIT.auth,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new ClientError(
      `${file} is not valid JSON (${(error as Error).message}): run oqto login`,
      EXIT.auth,
    );
  }
  const result = StoredCredentials.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ClientError(
      `${file} is not a credentials file (${issue?.path.join(".") || "top level"}: ${issue?.message}): run oqto login`,
      EXIT.auth,
    );
  }
  return result.data;
}

/** Writes the file atomically (temp file, fsync, rename): 0600 in a 0700 directory. */
export function writeStoredCredentials(credentials: StoredCredentials, file = credentialsFile()): void {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  // A temp file a crashed run left behind could have any mode: never write into it.
  rmSync(temp, { force: true });
  const fd = openSync(temp, "wx", 0o600);
  try {
    writeSync(fd, `${JSON.stringify(StoredCredentials.parse(credentials), null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** Removes the file; false when there was none. */
export function removeStoredCredentials(file = credentialsFile()): boolean {
  try {
    rmSync(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}

/**
 * The server and token a command uses: OQTO_URL / OQTO_TOKEN over the stored file. A stored token
 * is only ever sent to the server it was made for, so OQTO_URL naming another one needs OQTO_TOKEN.
 */
export function resolveCredentials(
  env: Record<string, string | undefined> = process.env,
  file = credentialsFile(),
): Credentials {
  const envUrl = env.OQTO_URL ? normalizeServerUrl(env.OQTO_URL) : undefined;
  const envToken = env.OQTO_TOKEN || undefined;
  if (envUrl && envToken) return { server: envUrl, token: envToken };
  const stored = readStoredCredentials(file);
  if (envToken) {
    if (!stored) throw new ClientError("OQTO_TOKEN is set but no server is: set OQTO_URL too", EXIT.auth);
    return { server: stored.server, token: envToken };
  }
  if (!stored)
    throw new ClientError(
      "not logged in: run oqto login --server URL, or set OQTO_URL and OQTO_TOKEN",
      EXIT.auth,
    );
  if (envUrl && envUrl !== stored.server)
    throw new ClientError(
      `the stored token is for ${stored.server}, not ${envUrl}: set OQTO_TOKEN, or run oqto login --server ${envUrl}`,
      EXIT.auth,
    );
  return { server: stored.server, token: stored.token };
}
