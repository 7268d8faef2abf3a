const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const dateFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });

/** "just now", "5 minutes ago", "yesterday", then a date. */
export function relativeTime(ms: number, now: number = Date.now()): string {
  const seconds = Math.round((ms - now) / 1000);
  if (Math.abs(seconds) < 45) return "just now";
  const minutes = Math.round(seconds / 60);
  if (Math.abs(minutes) < 60) return relative.format(minutes, "minute");
  const hours = Math.round(minutes / 60);
  if (Math.abs(hours) < 24) return relative.format(hours, "hour");
  const days = Math.round(hours / 24);
  if (Math.abs(days) < 7) return relative.format(days, "day");
  return dateFormat.format(ms);
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

export function formatTokens(count: number): string {
  return count < 1000 ? String(count) : `${(count / 1000).toFixed(1)}k`;
}

/** 128000 → "128k", 1048576 → "1M", 2500000 → "2.5M": a context size or a token total at a glance. */
export function formatTokenCount(count: number): string {
  if (count >= 1_000_000) return `${Number((count / 1_000_000).toFixed(1))}M`;
  if (count >= 1000) return `${Number((count / 1000).toFixed(1))}k`;
  return String(Math.round(count));
}

const groupedNumber = new Intl.NumberFormat("en-US");

/** 1234567 → "1,234,567". */
export function formatCount(count: number): string {
  return groupedNumber.format(count);
}

/**
 * US dollars with the precision small amounts need: "$12.34", "$0.0042", "$0". LLM costs are often
 * fractions of a cent, which two decimals would show as nothing: below a cent, two significant digits.
 */
export function formatUsd(amount: number): string {
  if (amount === 0) return "$0";
  if (Math.abs(amount) >= 0.01) return usd.format(amount);
  const digits = Math.min(10, Math.ceil(-Math.log10(Math.abs(amount))) + 1);
  return `$${amount.toFixed(digits).replace(/\.?0+$/, "")}`;
}

const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });

/** A model price in USD per million tokens, input and output: "$3 / $15 per M". */
export function formatPrice(price: { input: number; output: number }): string {
  return `${formatUsd(price.input)} / ${formatUsd(price.output)} per M`;
}

const UNITS = ["B", "KB", "MB", "GB", "TB"];

/** 1536 → "1.5 KB". */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

/** The exact moment, e.g. "Dec 6, 2025, 10:14:03 PM": what an audit entry or a tooltip needs. */
export function formatDateTime(ms: number): string {
  return dateTimeFormat.format(ms);
}
