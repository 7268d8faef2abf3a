import { z } from "zod";

/**
 * Images a user sends with a prompt, steer or follow-up (PROTOCOL.md §1.2): the types every
 * provider pi talks to accepts, each bounded, and the whole prompt bounded so that the user
 * message (which carries them as base64 in events, history and pi's own lines) fits one 16 MiB frame.
 */
export const IMAGE_MEDIA_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"] as const;
export type ImageMediaType = (typeof IMAGE_MEDIA_TYPES)[number];
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
export const MAX_PROMPT_IMAGE_BYTES = 8 * 1024 * 1024;
export const MAX_PROMPT_IMAGES = 16;

/** A JSON body that carries a prompt's images: their base64 (4/3 of the bytes) and 1 MiB for the rest. */
export const MAX_JSON_BODY_BYTES_WITH_IMAGES = Math.ceil((MAX_PROMPT_IMAGE_BYTES * 4) / 3) + 1024 * 1024;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decoded size of a padded base64 string. */
export function base64DecodedBytes(data: string): number {
  const padding = data.endsWith("==") ? 2 : data.endsWith("=") ? 1 : 0;
  return (data.length / 4) * 3 - padding;
}

/** The type the leading bytes say the image is (magic numbers), or null. */
export function sniffImageType(data: string): ImageMediaType | null {
  let head: string;
  try {
    head = atob(data.slice(0, 16));
  } catch {
    return null;
  }
  if (head.startsWith("\x89PNG\r\n\x1a\n")) return "image/png";
  if (head.startsWith("\xff\xd8\xff")) return "image/jpeg";
  if (head.startsWith("GIF87a") || head.startsWith("GIF89a")) return "image/gif";
  if (head.startsWith("RIFF") && head.slice(8, 12) === "WEBP") return "image/webp";
  return null;
}

export const ImageInput = z
  .strictObject({ data: z.string().min(4), media_type: z.enum(IMAGE_MEDIA_TYPES) })
  .superRefine((image, ctx) => {
    if (image.data.length % 4 !== 0 || !BASE64.test(image.data)) {
      ctx.addIssue({ code: "custom", path: ["data"], message: "must be padded base64" });
      return;
    }
    if (base64DecodedBytes(image.data) > MAX_IMAGE_BYTES) {
      ctx.addIssue({ code: "custom", path: ["data"], message: `image exceeds ${MAX_IMAGE_BYTES} bytes` });
    }
    // A mislabelled image would be refused by the provider after the turn began; refuse it here.
    if (sniffImageType(image.data) !== image.media_type) {
      ctx.addIssue({ code: "custom", path: ["media_type"], message: `data is not ${image.media_type}` });
    }
  });
export type ImageInput = z.infer<typeof ImageInput>;

export const PromptImages = z
  .array(ImageInput)
  .max(MAX_PROMPT_IMAGES)
  .refine(
    (images) =>
      images.reduce((sum, image) => sum + base64DecodedBytes(image.data), 0) <= MAX_PROMPT_IMAGE_BYTES,
    `images exceed ${MAX_PROMPT_IMAGE_BYTES} bytes together`,
  );
