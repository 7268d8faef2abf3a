import type { Database } from "bun:sqlite";
import { z } from "zod";
import { ModelSpec, ProviderApi } from "../../protocol/llm.ts";

/** An admin-configured LLM provider as stored: its key sealed by the gateway's KeyVault, never in plain text. */
export interface ProviderRecord {
  name: string;
  api: ProviderApi;
  base_url: string;
  models: ModelSpec[];
  /** The key as KeyVault sealed it (null: the provider needs none). */
  api_key_sealed: Uint8Array | null;
  created_at: number;
  updated_at: number;
}

export type ProviderWrite = Omit<ProviderRecord, "created_at" | "updated_at">;

/** The row as SQLite returns it; `api` and `models` are re-validated because the DB is a boundary too. */
const ProviderRow = z.object({
  name: z.string(),
  api: ProviderApi,
  base_url: z.string(),
  api_key_sealed: z.instanceof(Uint8Array).nullable(),
  models: z.string().transform((text, ctx) => {
    const parsed = z.array(ModelSpec).safeParse(JSON.parse(text));
    if (!parsed.success) {
      ctx.addIssue({ code: "custom", message: "providers.models is not a JSON array of models" });
      return z.NEVER;
    }
    return parsed.data;
  }),
  created_at: z.number(),
  updated_at: z.number(),
});

const COLUMNS = "name, api, base_url, api_key_sealed, models, created_at, updated_at";

function fromRow(row: unknown): ProviderRecord {
  return ProviderRow.parse(row);
}

function toParams(provider: ProviderWrite, now: number) {
  return {
    name: provider.name,
    api: provider.api,
    base_url: provider.base_url,
    api_key_sealed: provider.api_key_sealed,
    models: JSON.stringify(provider.models),
    now,
  };
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
  insert(provider: ProviderWrite, now = Date.now()): ProviderRecord | null {
    const row = this.db
      .query(
        `INSERT INTO providers (name, api, base_url, api_key_sealed, models, created_at, updated_at)
         VALUES ($name, $api, $base_url, $api_key_sealed, $models, $now, $now)
         ON CONFLICT (name) DO NOTHING
         RETURNING ${COLUMNS}`,
      )
      .get(toParams(provider, now));
    return row === null ? null : fromRow(row);
  }

  /** Replaces a provider's settings and key; null when it does not exist. */
  update(provider: ProviderWrite, now = Date.now()): ProviderRecord | null {
    const row = this.db
      .query(
        `UPDATE providers SET api = $api, base_url = $base_url, api_key_sealed = $api_key_sealed,
           models = $models, updated_at = $now
         WHERE name = $name
         RETURNING ${COLUMNS}`,
      )
      .get(toParams(provider, now));
    return row === null ? null : fromRow(row);
  }

  /** Removes a provider; false when it did not exist. */
  delete(name: string): boolean {
    return this.db.query("DELETE FROM providers WHERE name = ?").run(name).changes === 1;
  }
}
