/** Password hashing with argon2id (Bun.password). */

const ALGORITHM = "argon2id";

export function hashPassword(password: string): Promise<string> {
  return Bun.password.hash(password, { algorithm: ALGORITHM });
}

let dummyHash: Promise<string> | undefined;

/**
 * Checks a password against a stored hash. Without a hash (unknown username) it verifies against a dummy
 * hash with the same parameters and returns false, so that a login for a missing user costs the same time
 * as one with a wrong password and response timing does not reveal which usernames exist.
 */
export async function checkPassword(password: string, hash: string | null): Promise<boolean> {
  if (hash === null) {
    dummyHash ??= hashPassword(crypto.randomUUID());
    await Bun.password.verify(password, await dummyHash);
    return false;
  }
  return Bun.password.verify(password, hash);
}
