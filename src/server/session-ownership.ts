import type { SessionOwnership } from "./mux/agent-channel.ts";
import type { Store } from "./store/index.ts";

/** Who owns which session, kept in the platform DB; the first claim of an id is its start, audited. */
export function ownershipFrom(store: Store): SessionOwnership {
  return {
    claim: (sessionId, userId, workspacePath) => {
      const claim = store.sessions.claimSession(sessionId, userId, workspacePath);
      // A session's start is the moment its id is first claimed.
      if (claim.claimed) {
        const user = store.users.byId(userId);
        store.audit.append({
          actor_id: userId,
          actor_name: user?.username ?? null,
          action: "session.start",
          target: sessionId,
          ip: null,
          ...(workspacePath && { detail: { workspace: workspacePath } }),
        });
      }
      return claim.user_id === userId;
    },
    owner: (sessionId) => store.sessions.sessionOwner(sessionId) ?? undefined,
  };
}
