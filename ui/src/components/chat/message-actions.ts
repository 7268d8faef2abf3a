import type { ReadonlySignal } from "@preact/signals";
import type { MessageModel } from "../../state/chat/message-model.ts";

/** What a message can do besides showing itself; stable per conversation, so messages never re-render for it. */
export interface MessageActions {
  /** Starts a new session from a user message (pi fork). */
  fork: (message: MessageModel) => void;
  /** Forks at a user message and sends `text` in the fork instead; false if no fork was made. */
  resend: (message: MessageModel, text: string) => Promise<boolean>;
  /** Asks for the last answer again, in a fork at the last prompt; false if no fork was made. */
  regenerate: () => Promise<boolean>;
  /** The agent is working: forks wait until it is idle. */
  busy: ReadonlySignal<boolean>;
  /** A workspace-relative path for a path the agent used, or null if it lies outside the workspace. */
  resolveFile: (path: string) => string | null;
  /** Shows a workspace file in the file pane. */
  openFile: (relativePath: string) => void;
}

/** DOM id of a message element: search hits scroll to it. */
export function messageElementId(idx: number): string {
  return `message-${idx}`;
}
