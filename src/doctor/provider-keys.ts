import { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { dataPaths } from "../config/paths.ts";
import { KeyVault, VAULT_SECRET_ENV } from "../server/llm-gateway/key-vault.ts";
import type { DoctorCheck } from "./check.ts";

const CHECK = "llm-keys";

/**
 * Whether the providers' sealed keys open with the secret serve would use, read-only: a lost or replaced
 * `provider-keys.secret` leaves every agent without its LLM, and only shows at the first request.
 */
export function checkProviderKeys(
  dataDir: string,
  env: Record<string, string | undefined> = process.env,
): DoctorCheck {
  const paths = dataPaths(dataDir);
  if (!existsSync(paths.db)) return { check: CHECK, status: "ok", detail: "no platform database yet" };
  let sealed: { name: string; api_key_sealed: Uint8Array }[];
  try {
    const db = new Database(paths.db, { readonly: true });
    try {
      sealed = db
        .query<{ name: string; api_key_sealed: Uint8Array }, []>(
          "SELECT name, api_key_sealed FROM providers WHERE api_key_sealed IS NOT NULL ORDER BY name",
        )
        .all();
    } finally {
      db.close();
    }
  } catch (error) {
    return {
      check: CHECK,
      status: "warn",
      detail: `could not read the providers: ${(error as Error).message}`,
      fix: "start oqto serve once (it brings the database up to date), then run oqto doctor again",
    };
  }
  if (sealed.length === 0) return { check: CHECK, status: "ok", detail: "no stored provider keys" };
  if (env[VAULT_SECRET_ENV] === undefined && !existsSync(paths.keyVaultSecret)) {
    return {
      check: CHECK,
      status: "fail",
      detail: `${sealed.length} provider key(s) are stored, but ${paths.keyVaultSecret} (the secret that opens them) is missing`,
      fix: `restore ${paths.keyVaultSecret} from a backup, set ${VAULT_SECRET_ENV}, or enter the keys again (Admin → Providers)`,
    };
  }
  const vault = KeyVault.open(paths.keyVaultSecret, env);
  const broken = sealed.filter((row) => {
    try {
      vault.open(row.api_key_sealed, row.name);
      return false;
    } catch {
      return true;
    }
  });
  if (broken.length > 0) {
    return {
      check: CHECK,
      status: "fail",
      detail: `the stored key of ${broken.map((row) => `'${row.name}'`).join(", ")} does not open with this secret`,
      fix: "restore the provider-keys.secret (or the environment variable) these keys were sealed with, or enter the keys again (Admin → Providers)",
    };
  }
  return { check: CHECK, status: "ok", detail: `${sealed.length} provider key(s) open` };
}
