import { sha256Hex } from "../../shared/sha256.ts";

/**
 * Secrets shown once and stored only as their SHA-256 (a copy of the DB grants nothing), with their
 * first characters kept so that people can tell them apart: personal API keys and invite codes.
 */

/** API keys: `oqto_` and 32 random bytes. Session tokens are JWTs (`eyJ…`), so the prefix tells them apart. */
export const API_KEY_PREFIX = "oqto_";
const SHOWN_KEY_PREFIX = API_KEY_PREFIX.length + 6;

/** Invite codes: 20 characters of Crockford's base32 (100 bits), in groups of five to read out or type. */
const INVITE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const INVITE_LENGTH = 20;

export interface MintedSecret {
  secret: string;
  hash: string;
  prefix: string;
}

export function isApiKey(token: string): boolean {
  return token.startsWith(API_KEY_PREFIX);
}

export function mintApiKey(): MintedSecret {
  const secret = `${API_KEY_PREFIX}${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url")}`;
  return { secret, hash: sha256Hex(secret), prefix: secret.slice(0, SHOWN_KEY_PREFIX) };
}

export function mintInviteCode(): MintedSecret {
  // 32 symbols: each random byte's low five bits pick one without bias.
  const symbols = [...crypto.getRandomValues(new Uint8Array(INVITE_LENGTH))].map(
    (byte) => INVITE_ALPHABET[byte & 31],
  );
  const secret = symbols.join("").replace(/(.{5})(?!$)/g, "$1-");
  return { secret, hash: sha256Hex(normalizeInviteCode(secret)), prefix: secret.slice(0, 5) };
}

/** What people type: any case, with or without dashes and spaces; Crockford's look-alikes read as digits. */
export function normalizeInviteCode(code: string): string {
  return code
    .toUpperCase()
    .replace(/[\s-]/g, "")
    .replace(/[OIL]/g, (c) => (c === "O" ? "0" : "1"));
}
