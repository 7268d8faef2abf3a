import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { loadOrCreateSecretFile } from "../../shared/secret-file.ts";

/** The environment variable that, when set, holds the secret instead of the key file. */
export const VAULT_SECRET_ENV = "OQTO_KEY_ENCRYPTION_SECRET";
const FORMAT_V1 = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Provider keys at rest: AES-256-GCM, one random IV per seal, the provider's name as associated data (a
 * sealed key copied onto another provider's row does not open). The AES key is derived (HKDF-SHA256) from a
 * secret in `OQTO_KEY_ENCRYPTION_SECRET` or in a 0600 file in serve's data dir, which no platform user can
 * read: a stolen database alone gives no key away.
 */
export class KeyVault {
  private constructor(private readonly key: Buffer) {}

  /** From the environment variable when set, else from (or into) `secretFile`. */
  static open(secretFile: string, env: Record<string, string | undefined> = process.env): KeyVault {
    const fromEnv = env[VAULT_SECRET_ENV];
    if (fromEnv !== undefined && Buffer.byteLength(fromEnv) < 32) {
      throw new Error(`${VAULT_SECRET_ENV} must hold at least 32 bytes`);
    }
    const secret = fromEnv ?? loadOrCreateSecretFile(secretFile, "the provider-key encryption secret");
    const key = Buffer.from(hkdfSync("sha256", secret, "oqto", "provider keys v1", 32));
    return new KeyVault(key);
  }

  seal(plaintext: string, context: string): Uint8Array {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return Buffer.concat([Buffer.of(FORMAT_V1), iv, cipher.getAuthTag(), body]);
  }

  /** The plaintext, or an error saying the secret changed (or the data was altered). */
  open(sealed: Uint8Array, context: string): string {
    const data = Buffer.from(sealed);
    if (data.length < 1 + IV_BYTES + TAG_BYTES || data[0] !== FORMAT_V1) {
      throw new Error(`the stored key of '${context}' is not in a format this oqto reads`);
    }
    const iv = data.subarray(1, 1 + IV_BYTES);
    const tag = data.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv("aes-256-gcm", this.key, iv);
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([
        decipher.update(data.subarray(1 + IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]).toString("utf8");
    } catch {
      throw new Error(
        `the stored key of '${context}' does not open with this encryption secret (was it replaced?); enter the key again`,
      );
    }
  }
}
