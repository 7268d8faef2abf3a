/** The password check in its own worker: verdicts, concurrent callers, and a heap that stays small. */
import { heapStats } from "bun:jsc";
import { expect, test } from "bun:test";
import { passwordWeakness } from "../../src/server/auth/password-strength.ts";

test("weak passwords are refused with zxcvbn's reason, strong ones pass, context words count", async () => {
  expect(await passwordWeakness("password1", [])).toContain("too easy to guess");
  expect(await passwordWeakness("   ", [])).toBe("the password is only whitespace");
  expect(await passwordWeakness("a lantern under seven quiet bridges", [])).toBeUndefined();
  // The username itself is what a guesser tries first.
  expect(await passwordWeakness("zorblaxquintic", [])).toBeUndefined();
  expect(await passwordWeakness("zorblaxquintic", ["zorblaxquintic"])).toContain("too easy to guess");
});

test("concurrent checks each get their own verdict", async () => {
  const passwords = [
    "qwerty",
    "a lantern under seven quiet bridges",
    "letmein",
    "violet ferns hum past midnight",
  ];
  const verdicts = await Promise.all(passwords.map((password) => passwordWeakness(password, [])));
  expect(verdicts.map((verdict) => verdict === undefined)).toEqual([false, true, false, true]);
});

test("the dictionaries never land on the caller's heap", async () => {
  await passwordWeakness("password1", []);
  Bun.gc(true);
  const before = heapStats().heapSize;
  for (let i = 0; i < 3; i++) await passwordWeakness(`hunter${i}`, []);
  Bun.gc(true);
  // zxcvbn's dictionaries alone are ~18 MB of strings once imported.
  expect(heapStats().heapSize - before).toBeLessThan(4_000_000);
  expect(heapStats().objectTypeCounts.string ?? 0).toBeLessThan(100_000);
});
