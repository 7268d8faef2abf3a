import { signal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { api } from "../lib/api.ts";

/**
 * Whether the server runs in multi-user mode (`GET /api/health`): `undefined` until known, `null`
 * when the server could not be asked. Only a restart changes the mode, so one answer per page load does.
 */
export const multiUser = signal<boolean | null | undefined>(undefined);
let asking = false;

function loadServerMode(): void {
  if (asking || typeof multiUser.value === "boolean") return;
  asking = true;
  api.health().then(
    (health) => {
      multiUser.value = health.multi_user;
    },
    () => {
      // Unknown: pages fall back to what works in either mode; the next page that asks tries again.
      multiUser.value = null;
      asking = false;
    },
  );
}

/** The server's mode for a component, asked for on its first render. */
export function useMultiUser(): boolean | null | undefined {
  useEffect(loadServerMode, []);
  return multiUser.value;
}
