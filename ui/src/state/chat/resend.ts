import { effect } from "@preact/signals";
import type { ImageInput } from "../../../../src/protocol/index.ts";
import { navigate, workspacePath } from "../router.ts";
import { activeChat, forkInHistory } from "./active-chat.ts";
import type { ChatSession } from "./chat-session.ts";
import type { MessageModel } from "./message-model.ts";
import { messageImages, messageText } from "./message-text.ts";

/*
 * Edit-and-resend and regenerate are forks. pi's RPC mode cannot rewind a session in place (its
 * tree navigation is the TUI's), so both fork at the user message: the fork holds the history
 * before it and the original session stays exactly as it was, listed beside the fork. The view
 * switches to the fork and sends the prompt there (docs/PROTOCOL.md, `fork`).
 */

/**
 * Forks at `message`, shows the fork and sends `text` there with the message's images. Resolves
 * false when no fork was made (the reason is shown in the chat).
 */
export async function resendAsFork(chat: ChatSession, message: MessageModel, text: string): Promise<boolean> {
  const images = messageImages(message);
  const result = await forkInHistory(chat, message);
  if (!result) return false;
  sendOnceShown(result.new_session_id, chat.id, text, images);
  navigate(workspacePath(chat.workspace.name, result.new_session_id));
  return true;
}

/** Asks again for the last answer: a fork at the last prompt that sends the same prompt. */
export function regenerate(chat: ChatSession): Promise<boolean> {
  const prompt = chat.userMessages().at(-1);
  if (!prompt) return Promise.resolve(false);
  return resendAsFork(chat, prompt, messageText(prompt));
}

/**
 * Sends the prompt once the fork's view has loaded (its history is on screen, so the prompt lands
 * after it). Given up if another session is shown before that.
 */
function sendOnceShown(target: string, source: string, text: string, images: ImageInput[]): void {
  let settled = false;
  const dispose = effect(() => {
    if (settled) return;
    const shown = activeChat.value;
    if (shown?.id === target) {
      if (shown.load.value.status !== "ready") return;
      settled = true;
      // Outside the effect: sending reads signals this effect must not follow.
      queueMicrotask(() => {
        dispose();
        // A failed send shows its reason in the chat; the text waits in the composer to try again.
        shown.send(text, "prompt", images).catch(() => {
          if (shown.draft.value === "") shown.draft.value = text;
        });
      });
      return;
    }
    if (shown?.id !== source) {
      settled = true;
      queueMicrotask(() => dispose());
    }
  });
}
