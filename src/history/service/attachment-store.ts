import type { Database } from "bun:sqlite";

export interface AttachmentInput {
  messageId: string;
  mimeType: string;
  filename: string | null;
  content: Uint8Array;
}

/** Stores an attachment blob for a message; returns its id. */
export function insertAttachment(db: Database, input: AttachmentInput, now: number): string {
  const id = crypto.randomUUID();
  db.query(
    `INSERT INTO attachments (id, message_id, mime_type, filename, content, created_at)
     VALUES (?, ?, ?, ?, ?, ?)`,
  ).run(id, input.messageId, input.mimeType, input.filename, input.content, now);
  return id;
}
