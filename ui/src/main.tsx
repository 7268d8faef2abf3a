// First: configures zod before any schema parses.
import "./lib/zod-jitless.ts";
import { render } from "preact";
import { App } from "./app.tsx";
import { installAttention } from "./state/attention.ts";
import { bootAuth } from "./state/auth.ts";
import { installClock } from "./state/clock.ts";
import { installConnection } from "./state/connection.ts";
import { installUnsavedChangesGuard } from "./state/files/file-browser.ts";
import { installSignOutCleanup } from "./state/sign-out.ts";
import { installTheme } from "./state/theme.ts";
import { installPanelMemory } from "./state/workspace-panel.ts";

installTheme();
installConnection();
installSignOutCleanup();
installPanelMemory();
installClock();
installUnsavedChangesGuard();
installAttention();

const root = document.getElementById("app");
if (!root) throw new Error("index.html has no #app element");
render(<App />, root);
void bootAuth();
