const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;

/**
 * Reconnect delay for the given failed attempt (0-based): doubles from 0.5 s up to 10 s, with
 * ±20 % jitter so that many tabs do not reconnect in lockstep after a server restart.
 */
export function reconnectDelayMs(attempt: number): number {
  const base = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** attempt);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}
