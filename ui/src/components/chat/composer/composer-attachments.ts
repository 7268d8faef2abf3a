import { signal } from "@preact/signals";
import {
  base64DecodedBytes,
  IMAGE_MEDIA_TYPES,
  type ImageInput,
  type ImageMediaType,
  MAX_IMAGE_BYTES,
  MAX_PROMPT_IMAGE_BYTES,
  MAX_PROMPT_IMAGES,
  sniffImageType,
} from "../../../../../src/protocol/index.ts";
import { errorText } from "../../../lib/errors.ts";
import { fileUrl } from "../../../lib/file-urls.ts";
import { uploadFile } from "../../../lib/upload.ts";
import type { ChatSession } from "../../../state/chat/chat-session.ts";
import { formatBytes } from "../../common/format.ts";

/** Dropped files that are not images go here, below the workspace. */
export const UPLOAD_FOLDER = "uploads";

let keyCounter = 0;
const nextKey = (prefix: string) => `${prefix}${++keyCounter}`;

/** An image waiting in the composer to go out with the next message. */
export interface PendingImage {
  key: string;
  name: string;
  mediaType: ImageMediaType;
  /** base64 of the bytes. */
  data: string;
}

/** A dropped file on its way into the workspace; its path goes into the message once it is there. */
export class PendingUpload {
  readonly key = nextKey("up");
  readonly loaded = signal(0);
  readonly status = signal<"uploading" | "done" | "failed">("uploading");
  readonly error = signal<string | null>(null);
  constructor(
    readonly name: string,
    readonly path: string,
    readonly size: number,
  ) {}
}

export function isImageType(type: string): type is ImageMediaType {
  return (IMAGE_MEDIA_TYPES as readonly string[]).includes(type);
}

function readBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = String(reader.result);
      resolve(url.slice(url.indexOf(",") + 1));
    };
    reader.onerror = () => reject(reader.error ?? new Error("the file could not be read"));
    reader.readAsDataURL(file);
  });
}

/**
 * What the composer carries beside its text: pasted or dropped images (sent to pi with the message,
 * within the protocol's bounds) and uploads of other dropped files into the workspace.
 */
export class ComposerAttachments {
  readonly images = signal<readonly PendingImage[]>([]);
  readonly uploads = signal<readonly PendingUpload[]>([]);
  /** Why the last attachment was refused, until the next one or a dismissal. */
  readonly notice = signal<string | null>(null);

  get uploading(): boolean {
    return this.uploads.value.some((u) => u.status.value === "uploading");
  }

  async addImage(file: File): Promise<void> {
    const name = file.name || "pasted image";
    if (!isImageType(file.type)) {
      this.notice.value = `${name}: only PNG, JPEG, GIF and WebP images can be sent to the agent.`;
      return;
    }
    if (file.size > MAX_IMAGE_BYTES) {
      this.notice.value = `${name} is ${formatBytes(file.size)}; an image may be at most ${formatBytes(MAX_IMAGE_BYTES)}.`;
      return;
    }
    if (this.images.value.length >= MAX_PROMPT_IMAGES) {
      this.notice.value = `A message can carry at most ${MAX_PROMPT_IMAGES} images.`;
      return;
    }
    const total = this.images.value.reduce((sum, image) => sum + base64DecodedBytes(image.data), 0);
    if (total + file.size > MAX_PROMPT_IMAGE_BYTES) {
      this.notice.value = `The images of one message may be at most ${formatBytes(MAX_PROMPT_IMAGE_BYTES)} together.`;
      return;
    }
    const data = await readBase64(file);
    // The server refuses bytes that are not what their type says; say so before sending.
    if (sniffImageType(data) !== file.type) {
      this.notice.value = `${name} is not a valid ${file.type.slice("image/".length).toUpperCase()} image.`;
      return;
    }
    this.notice.value = null;
    this.images.value = [...this.images.value, { key: nextKey("img"), name, mediaType: file.type, data }];
  }

  removeImage(key: string): void {
    this.images.value = this.images.value.filter((image) => image.key !== key);
  }

  /** The images for a message being sent; they leave the composer. */
  takeImages(): PendingImage[] {
    const taken = [...this.images.value];
    this.images.value = [];
    return taken;
  }

  /** A send failed: its images come back unless others were attached meanwhile. */
  restoreImages(images: readonly PendingImage[]): void {
    if (this.images.value.length === 0) this.images.value = images;
  }

  /**
   * Uploads a file into `uploads/` of the workspace (never over an existing file) and hands its
   * workspace-relative path to `onStored`.
   */
  upload(workspaceName: string, file: File, relativePath: string, onStored: (path: string) => void): void {
    const path = `${UPLOAD_FOLDER}/${relativePath}`;
    const item = new PendingUpload(relativePath, path, file.size);
    this.uploads.value = [...this.uploads.value, item];
    const url = `${fileUrl(workspaceName, path, { createParents: true })}&overwrite=0`;
    const handle = uploadFile(url, file, (loaded) => {
      item.loaded.value = loaded;
    });
    handle.done.then(
      () => {
        item.status.value = "done";
        this.dismissUpload(item.key);
        onStored(path);
      },
      (error) => {
        item.status.value = "failed";
        item.error.value = errorText(error);
      },
    );
  }

  dismissUpload(key: string): void {
    this.uploads.value = this.uploads.value.filter((u) => u.key !== key);
  }
}

/** The protocol's shape of the images of a message. */
export function toImageInputs(images: readonly PendingImage[]): ImageInput[] {
  return images.map((image) => ({ data: image.data, media_type: image.mediaType }));
}

const bySession = new WeakMap<ChatSession, ComposerAttachments>();

/** The attachments of a chat's composer, kept while the chat is open (like its draft). */
export function attachmentsFor(chat: ChatSession): ComposerAttachments {
  let attachments = bySession.get(chat);
  if (!attachments) {
    attachments = new ComposerAttachments();
    bySession.set(chat, attachments);
  }
  return attachments;
}
