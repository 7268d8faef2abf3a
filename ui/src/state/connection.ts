import { effect } from "@preact/signals";
import { ApiError, api } from "../lib/api.ts";
import { MuxClient } from "../lib/mux-client.ts";
import { currentUser, signedOut } from "./auth.ts";

function muxUrl(): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/api/ws/mux`;
}

/** A socket refused before the greeting may mean the cookie expired: ask REST, which can tell. */
async function checkSession(): Promise<void> {
  const expired = await api.me().then(
    () => false,
    (error: unknown) => error instanceof ApiError && error.status === 401,
  );
  if (expired) await signedOut();
}

export const mux = new MuxClient({ url: muxUrl, onHandshakeFailed: () => void checkSession() });

/** The socket lives exactly as long as someone is signed in. */
export function installConnection(): void {
  effect(() => {
    if (currentUser.value) mux.start();
    else mux.stop();
  });
}
