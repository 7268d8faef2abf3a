import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { KeyVault, VAULT_SECRET_ENV } from "../../../src/server/llm-gateway/key-vault.ts";

const dirs: string[] = [];
function secretFile(): string {
  const dir = mkdtempSync("/tmp/oqto-vault-");
  dirs.push(dir);
  return join(dir, "data", "provider-keys.secret");
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("KeyVault", () => {
  test("seals with a fresh IV each time and opens only under the same provider name", () => {
    const vault = KeyVault.open(secretFile(), {});
    const first = vault.seal("sk-live-123", "openai");
    const second = vault.seal("sk-live-123", "openai");
    expect(Buffer.from(first).equals(Buffer.from(second))).toBe(false);
    expect(Buffer.from(first).toString("latin1")).not.toContain("sk-live");
    expect(vault.open(first, "openai")).toBe("sk-live-123");
    expect(() => vault.open(first, "anthropic")).toThrow(/does not open/);
  });

  test("altered ciphertext, a short blob or another secret does not open", () => {
    const file = secretFile();
    const vault = KeyVault.open(file, {});
    const sealed = vault.seal("sk-x", "p");
    const altered = Uint8Array.from(sealed);
    altered[altered.length - 1] = (altered[altered.length - 1] ?? 0) ^ 1;
    expect(() => vault.open(altered, "p")).toThrow(/does not open/);
    expect(() => vault.open(new Uint8Array([1, 2, 3]), "p")).toThrow(/not in a format/);
    const other = KeyVault.open(secretFile(), {});
    expect(() => other.open(sealed, "p")).toThrow(/enter the key again/);
    // The same file again (a restart) opens what was sealed before.
    expect(KeyVault.open(file, {}).open(sealed, "p")).toBe("sk-x");
  });

  test("the generated secret file is 0600 in a 0700 dir; the environment variable wins over it", () => {
    const file = secretFile();
    KeyVault.open(file, {});
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(file, "..")).mode & 0o777).toBe(0o700);
    const env = { [VAULT_SECRET_ENV]: "x".repeat(40) };
    const sealed = KeyVault.open(secretFile(), env).seal("k", "p");
    expect(KeyVault.open(secretFile(), env).open(sealed, "p")).toBe("k");
    expect(() => KeyVault.open(file, env).open(KeyVault.open(file, {}).seal("k", "p"), "p")).toThrow();
    expect(() => KeyVault.open(file, { [VAULT_SECRET_ENV]: "short" })).toThrow(/at least 32 bytes/);
  });
});
