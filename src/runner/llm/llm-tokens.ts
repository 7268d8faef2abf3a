import { randomBytes } from "node:crypto";
import type { LlmTokenEntry, LlmTokenPush, LlmTokensPush } from "../../protocol/runner.ts";
import { sha256Hex } from "../../shared/sha256.ts";

/** A token minted for one pi process, and how to end it when the process has exited. */
export interface MintedLlmToken {
  token: string;
  /** The process now serves another session (a warm spare handed out): usage is that session's. */
  rebind: (sessionId: string) => void;
  release: () => void;
}

/**
 * The runner's half of the LLM token scheme: a fresh random token for every pi process it starts, handed
 * to that process only (its environment), registered with the server's gateway by hash and withdrawn when
 * the process exits. The runner never holds a provider key: a token is worth one session's access,
 * within its user's budget, for the life of one process.
 */
export class LlmTokens {
  private readonly live = new Map<string, LlmTokenEntry>();

  /** `push` sends a frame to the connected server (a no-op while none is). */
  constructor(private readonly push: (frame: LlmTokenPush | LlmTokensPush) => void) {}

  mint(sessionId: string): MintedLlmToken {
    const token = `oqtok_${randomBytes(32).toString("base64url")}`;
    const entry: LlmTokenEntry = {
      token_hash: sha256Hex(token),
      session_id: sessionId,
    };
    this.live.set(entry.token_hash, entry);
    this.push({ type: "llm_token", op: "add", ...entry });
    let released = false;
    return {
      token,
      rebind: (sessionId) => {
        if (released) return;
        entry.session_id = sessionId;
        this.push({ type: "llm_token", op: "add", ...entry });
      },
      release: () => {
        if (released) return;
        released = true;
        this.live.delete(entry.token_hash);
        this.push({ type: "llm_token", op: "remove", ...entry });
      },
    };
  }

  /** Every live token. */
  list(): LlmTokenEntry[] {
    return [...this.live.values()];
  }

  /** Tells a newly connected server every live token (it replaces what an earlier connection registered). */
  announce(): void {
    this.push({ type: "llm_tokens", tokens: this.list() });
  }
}
