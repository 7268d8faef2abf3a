import type { ChatSession } from "../../../state/chat/chat-session.ts";

/**
 * Commands of Oqto itself in the `/` list. pi's built-ins (`/compact`, `/name`, …) belong to its
 * terminal UI and are no commands in RPC mode, so these run the matching canonical command instead
 * of going to pi as text. Like in pi's own UI they win over a prompt template of the same name.
 */
export interface BuiltinCommand {
  name: string;
  description: string;
  /** What must follow the name, if anything (`/name` needs the new title). */
  requires: string | null;
  run: (chat: ChatSession, args: string) => Promise<void>;
}

export const BUILTIN_COMMANDS: readonly BuiltinCommand[] = [
  {
    name: "compact",
    description: "Summarize the conversation to free context (optional: what to keep)",
    requires: null,
    run: (chat, args) => chat.compact(args),
  },
  {
    name: "name",
    description: "Rename this session",
    requires: "the new name",
    run: (chat, args) => chat.rename(args),
  },
];

/** The built-in a message invokes, with its arguments; null for any other message. */
export function builtinInvocation(text: string): { command: BuiltinCommand; args: string } | null {
  const match = /^\/(\S+)(?:\s+([\s\S]*))?$/.exec(text.trim());
  if (!match) return null;
  const command = BUILTIN_COMMANDS.find((c) => c.name === match[1]);
  if (!command) return null;
  return { command, args: (match[2] ?? "").trim() };
}
