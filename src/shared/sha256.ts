/** SHA-256 hex of a secret: the only form in which Oqto keeps API keys, invite codes, setup and LLM tokens. */
export function sha256Hex(secret: string): string {
  return new Bun.CryptoHasher("sha256").update(secret).digest("hex");
}
