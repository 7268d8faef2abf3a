import { render } from "preact";
import { App } from "./app.tsx";
import { bootAuth } from "./state/auth.ts";
import { installConnection } from "./state/connection.ts";
import { installTheme } from "./state/theme.ts";

installTheme();
installConnection();

const root = document.getElementById("app");
if (!root) throw new Error("index.html has no #app element");
render(<App />, root);
void bootAuth();
