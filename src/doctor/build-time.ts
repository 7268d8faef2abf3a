/**
 * A Bun macro (imported `with { type: "macro" }`): runs when the bundle is built, so the compiled
 * binary carries the time it was built as a string literal.
 */
export function buildTime(): string {
  return new Date().toISOString();
}
