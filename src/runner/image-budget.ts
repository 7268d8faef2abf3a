import { base64DecodedBytes } from "../protocol/images.ts";
import type { Message, Part } from "../protocol/message.ts";

/**
 * base64 of images one conversation reply (`get_messages`, `history.messages`) carries at most. A
 * reply is one 16 MiB line and frame; a conversation holds up to 8 MiB of images per prompt, so a
 * few prompts with pictures would otherwise make the session impossible to open (an oversize line
 * also ends the runner connection). The newest images are kept: the ones a reader looks at.
 */
export const REPLY_IMAGE_BUDGET = 11 * 1024 * 1024;

/** The messages with images past the budget (the oldest first) replaced by `omitted` parts. */
export function withinImageBudget(messages: Message[], budget = REPLY_IMAGE_BUDGET): Message[] {
  let used = 0;
  const kept = [...messages];
  for (let i = kept.length - 1; i >= 0; i--) {
    const message = kept[i] as Message;
    let changed = false;
    const parts = message.parts.map((part): Part => {
      if (part.type !== "image" || part.source !== "base64") return part;
      if (used + part.data.length <= budget) {
        used += part.data.length;
        return part;
      }
      changed = true;
      return {
        type: "image",
        id: part.id,
        ...(part.alt === undefined ? {} : { alt: part.alt }),
        source: "omitted",
        mimeType: part.mimeType,
        size: base64DecodedBytes(part.data),
      };
    });
    if (changed) kept[i] = { ...message, parts };
  }
  return kept;
}
