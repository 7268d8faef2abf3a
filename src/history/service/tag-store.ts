import type { Database } from "bun:sqlite";

/** Tags a conversation; false when it already carried the tag. */
export function addTag(db: Database, conversationId: string, tag: string): boolean {
  db.query("INSERT INTO tags (name) VALUES (?) ON CONFLICT (name) DO NOTHING").run(tag);
  const result = db
    .query(
      `INSERT INTO conversation_tags (conversation_id, tag_id)
       SELECT ?, id FROM tags WHERE name = ? ON CONFLICT DO NOTHING`,
    )
    .run(conversationId, tag);
  return result.changes > 0;
}

/** Untags a conversation; false when it did not carry the tag. */
export function removeTag(db: Database, conversationId: string, tag: string): boolean {
  const result = db
    .query(
      `DELETE FROM conversation_tags
       WHERE conversation_id = ? AND tag_id = (SELECT id FROM tags WHERE name = ?)`,
    )
    .run(conversationId, tag);
  return result.changes > 0;
}
