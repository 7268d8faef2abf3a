/** Composer text waiting for a session that is not on screen yet (the prompt a fork gives back). */
const drafts = new Map<string, string>();

export function stashDraft(sessionId: string, text: string): void {
  drafts.set(sessionId, text);
}

export function takeDraft(sessionId: string): string | undefined {
  const text = drafts.get(sessionId);
  drafts.delete(sessionId);
  return text;
}
