import type { Message } from "../../protocol/message.ts";

/**
 * The message as it reads in session `sessionId`: id `<sessionId>#<idx>` and part ids
 * `<message id>/<n>` (PROTOCOL.md §1.4). Rows copied into a fork, or stored while the
 * conversation belonged to another Oqto session, get the ids live events use.
 */
export function rebaseMessage(message: Message, sessionId: string): Message {
  const id = `${sessionId}#${message.idx}`;
  if (message.id === id && message.parts.every((part) => part.id.startsWith(`${id}/`))) return message;
  return {
    ...message,
    id,
    parts: message.parts.map((part) => {
      const slash = part.id.lastIndexOf("/");
      return slash < 0 ? part : { ...part, id: `${id}${part.id.slice(slash)}` };
    }),
  };
}
