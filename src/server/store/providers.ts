import type { Database } from "bun:sqlite";
import { z } from "zod";
import { ProviderApi, type ProviderBody } from "../../protocol/rest.ts";

/** An admin-configured LLM provider as stored, key included (it is written into each user's models.json). */
export interface ProviderRecord extends ProviderBody {
  created_at: number;
  updated_at: number;
}

/** The row as SQLite returns it; `api` and `models` are re-validated because the DB is a boundary too. */
const ProviderRow = z.object({
  name: z.string(),
  api: ProviderApi,
  base_url: z.string(),
  api_key: z.string(),
  models: z.string().transform((text, ctx) => {
    const parsed = z.array(z.string()).safeParse(JSON.parse(text));
    if (!parsed.success) {
      ctx.addIssue({ code: "custom", message: "providers.models is not a JSON array of strings" });
      return z.NEVER;
    }
    return parsed.data;
  }),
  created_at: z.number(),
  updated_at: z.number(),
});

const COLUMNS = "name, api, base_url, api_key, models, created_at, updated_at";

function fromRow(row: unknown): ProviderRecord {
  return ProviderRow.parse(row);
}

export class ProviderStore {
  constructor(private readonly db: Database) {}

  /** Oldest first: the first provider supplies the users' default model. */
  list(): ProviderRecord[] {
    return this.db.query(`SELECT ${COLUMNS} FROM providers ORDER BY created_at, name`).all().map(fromRow);
  }

  get(name: string): ProviderRecord | null {
    const row = this.db.query(`SELECT ${COLUMNS} FROM providers WHERE name = ?`).get(name);
    return row === null ? null : fromRow(row);
  }

  /** Adds a provider; null when the name is taken. */
  insert(provider: ProviderBody, now = Date.now()): ProviderRecord | null {
    const row = this.db
      .query(
        `INSERT INTO providers (name, api, base_url, api_key, models, created_at, updated_at)
         VALUES ($name, $api, $base_url, $api_key, $models, $now, $now)
         ON CONFLICT (name) DO NOTHING
         RETURNING ${COLUMNS}`,
      )
      .get({ ...provider, models: JSON.stringify(provider.models), now });
    return row === null ? null : fromRow(row);
  }

  /** Replaces a provider's settings; null when it does not exist. */
  update(provider: ProviderBody, now = Date.now()): ProviderRecord | null {
    const row = this.db
      .query(
        `UPDATE providers SET api = $api, base_url = $base_url, api_key = $api_key, models = $models, updated_at = $now
         WHERE name = $name
         RETURNING ${COLUMNS}`,
      )
      .get({ ...provider, models: JSON.stringify(provider.models), now });
    return row === null ? null : fromRow(row);
  }

  /** Removes a provider; false when it did not exist. */
  delete(name: string): boolean {
    return this.db.query("DELETE FROM providers WHERE name = ?").run(name).changes === 1;
  }
}
