import { signal } from "@preact/signals";

/** The pages of the admin area, each at `/admin/<section>`; providers, the first, also at `/admin`. */
export const ADMIN_SECTIONS = [
  "providers",
  "usage",
  "limits",
  "users",
  "invites",
  "sessions",
  "audit",
] as const;
export type AdminSection = (typeof ADMIN_SECTIONS)[number];

export type Route =
  | { page: "workspaces" }
  | { page: "login" }
  | { page: "setup" }
  | { page: "register" }
  | { page: "account" }
  | { page: "admin"; section: AdminSection }
  | { page: "workspace"; workspace: string; sessionId: string | null }
  | { page: "not-found"; path: string };

/** Client-side routes; the server serves the same HTML for every non-/api path. */
export function parseRoute(pathname: string): Route {
  const segments = pathname
    .split("/")
    .filter((s) => s.length > 0)
    .map((s) => decodeURIComponent(s));
  const [first, second, third, fourth] = segments;
  if (segments.length === 0) return { page: "workspaces" };
  if (segments.length === 1 && first === "login") return { page: "login" };
  if (segments.length === 1 && first === "setup") return { page: "setup" };
  if (segments.length === 1 && first === "register") return { page: "register" };
  if (segments.length === 1 && first === "account") return { page: "account" };
  if (segments.length === 1 && first === "admin") return { page: "admin", section: "providers" };
  if (segments.length === 2 && first === "admin") {
    const section = ADMIN_SECTIONS.find((s) => s === second);
    if (section) return { page: "admin", section };
  }
  if (first === "w" && second !== undefined) {
    if (segments.length === 2) return { page: "workspace", workspace: second, sessionId: null };
    if (segments.length === 4 && third === "s" && fourth !== undefined) {
      return { page: "workspace", workspace: second, sessionId: fourth };
    }
  }
  return { page: "not-found", path: pathname };
}

/** The pages for signed-out visitors: a signed-in user who lands on one goes to the start page. */
export function isEntryPage(current: Route): boolean {
  return current.page === "login" || current.page === "setup" || current.page === "register";
}

export function workspacePath(workspace: string, sessionId?: string): string {
  const base = `/w/${encodeURIComponent(workspace)}`;
  return sessionId ? `${base}/s/${encodeURIComponent(sessionId)}` : base;
}

export function adminPath(section: AdminSection): string {
  return section === "providers" ? "/admin" : `/admin/${section}`;
}

export const route = signal<Route>(parseRoute(location.pathname));

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (path === location.pathname) return;
  if (options.replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  route.value = parseRoute(path);
}

window.addEventListener("popstate", () => {
  route.value = parseRoute(location.pathname);
});

/** Click handler for in-app links: keeps modifier-clicks (new tab) working. */
export function linkHandler(path: string) {
  return (event: MouseEvent): void => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey)
      return;
    event.preventDefault();
    navigate(path);
  };
}
