import { sha256Hex } from "../../shared/sha256.ts";
import type { Store } from "../store/index.ts";

/** How long a printed setup token stays valid. */
export const SETUP_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

/** Setup tokens are stored as SHA-256 hex so that a copy of the DB does not grant admin setup. */
export function hashSetupToken(token: string): string {
  return sha256Hex(token);
}

/**
 * While no admin exists, mints a fresh one-time setup token (superseding any earlier one), stores its
 * hash, and returns the plain token for the caller to print. Returns null once setup is done.
 */
export function mintSetupToken(store: Store, now = Date.now()): string | null {
  if (store.users.adminExists()) return null;
  const token = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
  store.setupTokens.replace(hashSetupToken(token), now + SETUP_TOKEN_TTL_MS, now);
  return token;
}
