import type { Signal } from "@preact/signals";
import type { DroppedFile } from "../../../lib/dropped-files.ts";
import { type ComposerAttachments, isImageType } from "./composer-attachments.ts";

/** Puts `text` at the caret (or in place of the selection), with a space on either side where needed. */
export function insertAtCaret(
  draft: Signal<string>,
  textarea: HTMLTextAreaElement | null,
  text: string,
): void {
  const value = draft.value;
  const start = textarea?.selectionStart ?? value.length;
  const end = textarea?.selectionEnd ?? value.length;
  const before = value.slice(0, start);
  const after = value.slice(end);
  const lead = before === "" || /\s$/.test(before) ? "" : " ";
  const trail = /^\s/.test(after) ? "" : " ";
  draft.value = `${before}${lead}${text}${trail}${after}`;
}

/**
 * Files given to the composer: images at the top of a paste or drop go with the message, every
 * other file is uploaded into the workspace and its path goes into the text.
 */
export function takeFiles(
  files: readonly DroppedFile[],
  attachments: ComposerAttachments,
  workspaceName: string,
  onStored: (path: string) => void,
): void {
  for (const { file, relativePath } of files) {
    if (isImageType(file.type) && !relativePath.includes("/")) void attachments.addImage(file);
    else attachments.upload(workspaceName, file, relativePath, onStored);
  }
}

/** The files of a paste (screenshots arrive as clipboard files); empty for a text paste. */
export function pastedFiles(data: DataTransfer | null): DroppedFile[] {
  if (!data) return [];
  return [...data.files].map((file) => ({ file, relativePath: file.name || "pasted" }));
}
