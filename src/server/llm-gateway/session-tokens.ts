import { sha256Hex } from "../../shared/sha256.ts";

export interface TokenGrant {
  sessionId: string;
  /** The user whose runner registered it (undefined: the shared runner of single-user mode). */
  runnerUser: string | undefined;
}

/**
 * The live per-process LLM tokens. Runners mint one for each pi process they start and register its hash
 * (`llm_token` pushes, and the `llm_tokens` list right after each hello); a token dies with its process, or with
 * its runner's connection. Keyed by runner so that one runner's list never replaces another's.
 */
export class SessionTokens {
  private readonly byHash = new Map<string, TokenGrant>();
  private readonly byRunner = new Map<string | undefined, Set<string>>();

  /** Replaces everything `runnerUser`'s runner registered with `tokens` (its list after a connect). */
  replace(
    runnerUser: string | undefined,
    tokens: readonly { token_hash: string; session_id: string }[],
  ): void {
    this.dropRunner(runnerUser);
    for (const token of tokens) this.add(runnerUser, token.token_hash, token.session_id);
  }

  add(runnerUser: string | undefined, tokenHash: string, sessionId: string): void {
    const existing = this.byHash.get(tokenHash);
    // A hash another runner registered stays that runner's: no runner can take over another's token.
    if (existing && existing.runnerUser !== runnerUser) return;
    this.byHash.set(tokenHash, { sessionId, runnerUser });
    let hashes = this.byRunner.get(runnerUser);
    if (!hashes) {
      hashes = new Set();
      this.byRunner.set(runnerUser, hashes);
    }
    hashes.add(tokenHash);
  }

  remove(runnerUser: string | undefined, tokenHash: string): void {
    if (this.byHash.get(tokenHash)?.runnerUser !== runnerUser) return;
    this.byHash.delete(tokenHash);
    this.byRunner.get(runnerUser)?.delete(tokenHash);
  }

  /** The runner's connection ended: its processes' tokens end with it (a reconnect registers the live ones). */
  dropRunner(runnerUser: string | undefined): void {
    for (const hash of this.byRunner.get(runnerUser) ?? []) this.byHash.delete(hash);
    this.byRunner.delete(runnerUser);
  }

  lookup(token: string): TokenGrant | undefined {
    return this.byHash.get(sha256Hex(token));
  }

  get size(): number {
    return this.byHash.size;
  }
}
