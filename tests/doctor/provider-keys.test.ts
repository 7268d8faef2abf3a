import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { dataPaths } from "../../src/config/paths.ts";
import { checkProviderKeys } from "../../src/doctor/provider-keys.ts";
import { ProviderBody } from "../../src/protocol/llm.ts";
import { KeyVault } from "../../src/server/llm-gateway/key-vault.ts";
import { ProviderCatalog } from "../../src/server/llm-gateway/provider-catalog.ts";
import { openStore } from "../../src/server/store/index.ts";

const dir = mkdtempSync("/tmp/oqto-doctor-keys-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("stored keys that open are ok; a lost or replaced secret fails naming the providers", () => {
  const dataDir = join(dir, "data");
  expect(checkProviderKeys(dataDir, {})).toMatchObject({ status: "ok", detail: "no platform database yet" });
  const store = openStore(dataDir);
  const catalog = new ProviderCatalog(store, KeyVault.open(dataPaths(dataDir).keyVaultSecret, {}), () => {});
  const body = { api: "openai-completions", base_url: "http://127.0.0.1:9/v1", models: ["m"] };
  catalog.create(ProviderBody.parse({ ...body, name: "alpha", api_key: "sk-a" }));
  catalog.create(ProviderBody.parse({ ...body, name: "local" }));
  store.close();
  expect(checkProviderKeys(dataDir, {})).toMatchObject({ status: "ok", detail: "1 provider key(s) open" });

  const secret = dataPaths(dataDir).keyVaultSecret;
  writeFileSync(secret, `${"r".repeat(43)}\n`);
  expect(checkProviderKeys(dataDir, {})).toMatchObject({
    status: "fail",
    detail: "the stored key of 'alpha' does not open with this secret",
  });
  rmSync(secret);
  const lost = checkProviderKeys(dataDir, {});
  expect(lost.status).toBe("fail");
  expect(lost.detail).toContain("is missing");
  expect(lost.fix).toContain("OQTO_KEY_ENCRYPTION_SECRET");
});
