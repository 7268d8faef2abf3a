/** The hstry wire limit for one message, in both directions (HSTRY.md §1). */
export const HSTRY_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
