import { signal } from "@preact/signals";

/** A message to bring into view once its conversation is on screen (a search hit that was clicked). */
export interface MessageFocus {
  sessionId: string;
  messageId: string;
}

export const messageFocus = signal<MessageFocus | null>(null);

export function focusMessage(sessionId: string, messageId: string): void {
  messageFocus.value = { sessionId, messageId };
}
