/**
 * Personal API keys: `oqto_` and 32 random bytes, shown once; the server keeps only their SHA-256
 * (a copy of the DB grants nothing) and the first characters, so that a user can tell keys apart.
 * A session token is a JWT (`eyJ…`), so the prefix tells the two kinds apart without a lookup.
 */
export const API_KEY_PREFIX = "oqto_";
const SHOWN_PREFIX_LENGTH = API_KEY_PREFIX.length + 6;

export function isApiKey(token: string): boolean {
  return token.startsWith(API_KEY_PREFIX);
}

export function hashApiKey(key: string): string {
  return new Bun.CryptoHasher("sha256").update(key).digest("hex");
}

export function mintApiKey(): { key: string; hash: string; prefix: string } {
  const key = `${API_KEY_PREFIX}${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url")}`;
  return { key, hash: hashApiKey(key), prefix: key.slice(0, SHOWN_PREFIX_LENGTH) };
}
