import { signal } from "@preact/signals";
import type { z } from "zod";
import type { RegisterRequest, User } from "../../../src/protocol/index.ts";
import { ApiError, api } from "../lib/api.ts";
import { errorText } from "../lib/errors.ts";
import { isEntryPage, navigate, route } from "./router.ts";

/** `undefined` while the first /api/me is in flight, `null` when signed out. */
export const currentUser = signal<User | null | undefined>(undefined);
/** Why the first /api/me failed for another reason than "not signed in" (server down, ...). */
export const bootError = signal<string | null>(null);
/** Where to go after signing in (the page that sent the user to /login). */
let returnPath = "/";

/** Learns who is signed in; unauthenticated visitors go to /setup (no admin yet) or /login. */
export async function bootAuth(): Promise<void> {
  bootError.value = null;
  try {
    currentUser.value = await api.me();
    if (isEntryPage(route.value)) navigate("/", { replace: true });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) await signedOut();
    else bootError.value = errorText(error);
  }
}

/**
 * Sends a signed-out user to the right entry page, remembering where they were; one who opened
 * /register (an invite link) stays there. Never throws.
 */
export async function signedOut(): Promise<void> {
  if (!isEntryPage(route.value)) returnPath = location.pathname;
  currentUser.value = null;
  if (route.value.page === "register") return;
  // If the setup status cannot be read, the sign-in page is the safe default.
  const setupRequired = await api.setupStatus().then(
    (status) => status.setup_required,
    () => false,
  );
  navigate(setupRequired ? "/setup" : "/login", { replace: true });
}

export async function login(username: string, password: string): Promise<void> {
  const { user } = await api.login({ username, password });
  currentUser.value = user;
  navigate(returnPath, { replace: true });
  returnPath = "/";
}

export async function setupFirstAdmin(setupToken: string, username: string, password: string): Promise<void> {
  const { user } = await api.setup({ setup_token: setupToken, username, password });
  currentUser.value = user;
  navigate("/", { replace: true });
}

/** A new account from an invite code; it is signed in at once and starts on its workspaces. */
export async function register(body: z.input<typeof RegisterRequest>): Promise<void> {
  const { user } = await api.register(body);
  currentUser.value = user;
  navigate("/", { replace: true });
}

export async function logout(): Promise<void> {
  await api.logout();
  returnPath = "/";
  currentUser.value = null;
  navigate("/login", { replace: true });
}
