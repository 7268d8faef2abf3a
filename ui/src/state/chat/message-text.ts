import { ImageInput } from "../../../../src/protocol/index.ts";
import { ImagePartModel, isText, type MessageModel } from "./message-model.ts";

/** A message's text as it was written: the markdown of an answer, the plain text of a prompt. */
export function messageText(message: MessageModel): string {
  return message.parts.value
    .filter(isText)
    .map((part) => part.text.value)
    .join("\n\n");
}

/**
 * The images a prompt carried, as a prompt sends them again. Only images history still holds as
 * data come back (an "omitted" one has no data to send).
 */
export function messageImages(message: MessageModel): ImageInput[] {
  const images: ImageInput[] = [];
  for (const part of message.parts.value) {
    if (!(part instanceof ImagePartModel) || part.src === null) continue;
    const match = /^data:([^;,]+);base64,(.*)$/s.exec(part.src);
    const image = ImageInput.safeParse({ media_type: match?.[1], data: match?.[2] });
    if (image.success) images.push(image.data);
  }
  return images;
}
