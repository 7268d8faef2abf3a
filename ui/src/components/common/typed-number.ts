/**
 * A number typed into a text box: empty is `undefined` (not set), a number is that number, and anything
 * else stays the string it is, so that the server's check names the field ("expected number") instead of
 * the value going missing without a word.
 */
export function typedNumber(value: string): number | string | undefined {
  const trimmed = value.trim();
  if (trimmed === "") return undefined;
  const parsed = Number(trimmed);
  return Number.isFinite(parsed) ? parsed : trimmed;
}
