/** The message of anything thrown, for display. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
