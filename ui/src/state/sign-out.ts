import { effect } from "@preact/signals";
import { currentUser } from "./auth.ts";
import { resetFileBrowsers } from "./files/file-browser.ts";
import { clearSearch } from "./history/history-search.ts";
import { resetHistories } from "./history/session-history.ts";
import { resetTerminals } from "./terminal/workspace-terminals.ts";

/** On sign-out, forget what belonged to the user: the next one to sign in in this tab must not see it. */
export function installSignOutCleanup(): void {
  effect(() => {
    if (currentUser.value !== null) return;
    resetHistories();
    resetFileBrowsers();
    resetTerminals();
    clearSearch();
  });
}
