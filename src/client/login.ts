import { hostname } from "node:os";
import { HealthResponse } from "../protocol/rest.ts";
import { ClientError, EXIT } from "./client-error.ts";
import {
  credentialsFile,
  readStoredCredentials,
  removeStoredCredentials,
  type StoredCredentials,
  writeStoredCredentials,
} from "./credentials.ts";
import { OqtoClient } from "./http-client.ts";
import { OqtoApi } from "./oqto-api.ts";

/** The name of the API key `oqto login` makes, so that the user can tell it apart in the web UI. */
export function cliKeyName(): string {
  return `cli@${hostname()}`;
}

/** Fails unless `server` answers as an Oqto server (before any credential is sent to it). */
async function checkServer(server: string): Promise<void> {
  await new OqtoClient(server).json("GET", "/api/health", HealthResponse);
}

/**
 * Signs in with the password `ask` gets, makes a personal API key for this machine and stores it (the session
 * token of the sign-in is used once and dropped: keys outlive it and are revoked one by one).
 */
export async function loginWithPassword(
  server: string,
  ask: () => Promise<{ username: string; password: string }>,
  file = credentialsFile(),
): Promise<StoredCredentials> {
  // Before asking: nobody should type a password for a server that is not there.
  await checkServer(server);
  const { username, password } = await ask();
  const session = await new OqtoApi(new OqtoClient(server)).login(username, password);
  const key = await new OqtoApi(new OqtoClient(server, session.token)).createApiKey(cliKeyName());
  const stored: StoredCredentials = {
    version: 1,
    server,
    token: key.key,
    username: session.user.username,
    key_id: key.id,
    created_at: Date.now(),
  };
  writeStoredCredentials(stored, file);
  return stored;
}

/** Stores a token the user already has (an API key), once the server has accepted it. */
export async function loginWithToken(
  server: string,
  token: string,
  file = credentialsFile(),
): Promise<StoredCredentials> {
  await checkServer(server);
  const user = await new OqtoApi(new OqtoClient(server, token)).me();
  const stored: StoredCredentials = {
    version: 1,
    server,
    token,
    username: user.username,
    created_at: Date.now(),
  };
  writeStoredCredentials(stored, file);
  return stored;
}

/** Revokes the stored key (when `oqto login` made it) and removes the file; says what it did. */
export async function logout(file = credentialsFile()): Promise<string> {
  const stored = readStoredCredentials(file);
  if (!stored) throw new ClientError(`not logged in (no ${file})`, EXIT.auth);
  let revoked = "";
  if (stored.key_id !== undefined) {
    try {
      await new OqtoApi(new OqtoClient(stored.server, stored.token)).deleteApiKey(stored.key_id);
      revoked = "; its API key is revoked";
    } catch (error) {
      // The file goes either way: a key the server no longer takes is no loss, any other is reported.
      revoked = `; the API key could not be revoked (${(error as Error).message}): delete it in the web UI`;
    }
  } else {
    revoked = "; the token was brought with --token-stdin and stays valid";
  }
  removeStoredCredentials(file);
  return `logged out of ${stored.server}${revoked}`;
}
