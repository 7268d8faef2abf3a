import { signal } from "@preact/signals";

/** The time, refreshed every 30 s: relative times ("5 minutes ago") read it to stay current. */
export const clock = signal(Date.now());

export function installClock(): void {
  setInterval(() => {
    clock.value = Date.now();
  }, 30_000);
}
