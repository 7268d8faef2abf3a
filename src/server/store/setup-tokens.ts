import type { Database } from "bun:sqlite";

/** One-time first-admin setup tokens, stored only as SHA-256 hashes. */
export class SetupTokenStore {
  constructor(private readonly db: Database) {}

  /** Makes `tokenHash` the only valid setup token: a freshly printed token supersedes older ones. */
  replace(tokenHash: string, expiresAt: number, now = Date.now()): void {
    this.db.transaction(() => {
      this.db.run("DELETE FROM setup_tokens");
      this.db
        .query("INSERT INTO setup_tokens (token_hash, created_at, expires_at) VALUES (?, ?, ?)")
        .run(tokenHash, now, expiresAt);
    })();
  }

  /** Uses up the token if it exists and has not expired; deleting it is what makes it single-use. */
  consume(tokenHash: string, now = Date.now()): boolean {
    return (
      this.db.query("DELETE FROM setup_tokens WHERE token_hash = ? AND expires_at > ?").run(tokenHash, now)
        .changes === 1
    );
  }

  clear(): void {
    this.db.run("DELETE FROM setup_tokens");
  }
}
