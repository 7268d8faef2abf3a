import { clock } from "../../state/clock.ts";
import { formatDateTime, relativeTime } from "./format.ts";

/** A moment as "5 minutes ago" (kept current by the clock), the exact time in its tooltip. */
export function RelativeTime({ ms }: { ms: number }) {
  return (
    <time dateTime={new Date(ms).toISOString()} title={formatDateTime(ms)}>
      {relativeTime(ms, clock.value)}
    </time>
  );
}
