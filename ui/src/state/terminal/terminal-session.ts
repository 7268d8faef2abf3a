import { effect, signal } from "@preact/signals";
import type { FitAddon } from "@xterm/addon-fit";
import type { ITheme, Terminal } from "@xterm/xterm";
import { z } from "zod";
import {
  TerminalErrorFrame,
  TerminalExitFrame,
  TerminalOpenedFrame,
  TerminalOutputFrame,
} from "../../../../src/protocol/index.ts";
import { base64ToBytes } from "../../lib/base64.ts";
import { errorText } from "../../lib/errors.ts";
import { CommandError, type MuxClient } from "../../lib/mux-client.ts";
import { uuidv7 } from "../../lib/uuidv7.ts";
import { effectiveTheme } from "../theme.ts";

export type TerminalStatus =
  | { state: "idle" }
  | { state: "opening" }
  | { state: "open" }
  | { state: "exited"; exitCode?: number; signal?: string }
  | { state: "failed"; error: string; code: string };

const THEMES: Record<"light" | "dark", ITheme> = {
  light: {
    background: "#ffffff",
    foreground: "#1a1d23",
    cursor: "#4f46e5",
    cursorAccent: "#ffffff",
    selectionBackground: "#c7cbf5",
  },
  dark: {
    background: "#11141a",
    foreground: "#e6e8ec",
    cursor: "#8b8cf8",
    cursorAccent: "#11141a",
    selectionBackground: "#3b3f8f",
  },
};

/** Size changes while dragging a divider arrive in bursts; the PTY hears the last one. */
const RESIZE_DEBOUNCE_MS = 60;

const ServerFrame = z.discriminatedUnion("type", [
  TerminalOutputFrame,
  TerminalExitFrame,
  TerminalErrorFrame,
]);

/**
 * xterm is the largest library of the UI and most visits never open a terminal: it is fetched
 * with the first terminal (its own chunk), once. A failed fetch is forgotten so a retry fetches again.
 */
let xterm: Promise<{ Terminal: typeof Terminal; FitAddon: typeof FitAddon }> | undefined;
function loadXterm(): NonNullable<typeof xterm> {
  xterm ??= Promise.all([import("@xterm/xterm"), import("@xterm/addon-fit")]).then(
    ([core, fit]) => ({ Terminal: core.Terminal, FitAddon: fit.FitAddon }),
    (error: unknown) => {
      xterm = undefined;
      throw new Error(`the terminal's code could not be loaded (${errorText(error)}); reload the page`);
    },
  );
  return xterm;
}

/** Terminal ids are minted here, so output can be routed before the `opened` reply arrives. */
export function newTerminalId(): string {
  return `term-${uuidv7()}`;
}

/**
 * One shell in the workspace over the mux terminal channel (PROTOCOL.md §2.3), drawn by xterm.
 * The xterm instance outlives the view: hiding the panel or switching tabs keeps the screen,
 * and re-opening the same `terminal_id` (after a reconnect or a page reload) re-attaches to the
 * PTY, which replays its scrollback.
 */
export class TerminalSession {
  readonly status = signal<TerminalStatus>({ state: "idle" });
  readonly element: HTMLDivElement;
  /** Set once xterm has loaded (see `loadXterm`); until then nothing can be drawn or opened. */
  private term: Terminal | undefined;
  private fit: FitAddon | undefined;
  private loading: Promise<Terminal> | undefined;
  private disposed = false;
  private mounted = false;
  private written = false;
  private opening = false;
  private resizeTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly disposers: (() => void)[] = [];

  constructor(
    private readonly mux: MuxClient,
    private readonly workspacePath: string,
    public terminalId: string,
    readonly label: string,
    /** Told when the terminal ends, so it is not re-attached after a reload. */
    private readonly onEnded: (session: TerminalSession) => void,
  ) {
    this.element = document.createElement("div");
    this.element.className = "terminal-host";
    this.disposers.push(
      mux.onChannelFrame("terminal", (frame) => {
        if (frame.terminal_id !== this.terminalId) return;
        // Output fell too far behind: this attachment ended, the shell did not; attach again.
        // (`slow_consumer` is a mux code of PROTOCOL.md §2.6 that ErrorCode does not list.)
        if (frame.type === "error" && frame.code === "slow_consumer") {
          void this.open();
          return;
        }
        const parsed = ServerFrame.safeParse(frame);
        if (parsed.success) this.receive(parsed.data);
      }),
      mux.onReady(() => {
        const state = this.status.value.state;
        if ((state === "open" || state === "opening") && !this.opening) void this.open();
      }),
      effect(() => {
        const theme = THEMES[effectiveTheme.value];
        if (this.term) this.term.options.theme = theme;
      }),
    );
  }

  /** The xterm of this session, made once its code has loaded. */
  private terminal(): Promise<Terminal> {
    this.loading ??= loadXterm().then(
      (lib) => {
        if (this.term) return this.term;
        const term = new lib.Terminal({
          cursorBlink: true,
          fontFamily: 'ui-monospace, "SFMono-Regular", "JetBrains Mono", Menlo, Consolas, monospace',
          fontSize: 13,
          scrollback: 5000,
          theme: THEMES[effectiveTheme.peek()],
        });
        const fit = new lib.FitAddon();
        term.loadAddon(fit);
        const data = term.onData((input) => {
          if (this.status.value.state === "open")
            this.mux.post("terminal", { type: "input", terminal_id: this.terminalId, data: input });
        });
        const resize = term.onResize(() => this.scheduleResize());
        this.disposers.push(
          () => data.dispose(),
          () => resize.dispose(),
          () => term.dispose(),
        );
        this.term = term;
        this.fit = fit;
        // Closed while the code was on its way.
        if (this.disposed) this.dispose();
        return term;
      },
      (error: unknown) => {
        this.loading = undefined;
        throw error;
      },
    );
    return this.loading;
  }

  /**
   * Shows the terminal in `container` and follows its size. The first time, xterm renders into
   * the page and the shell is opened at the fitted size. Returns the detach function.
   */
  attach(container: HTMLElement): () => void {
    container.append(this.element);
    void this.terminal().then(
      (term) => {
        // Detached again before xterm arrived: it mounts on the next attach.
        if (this.disposed || !this.element.isConnected) return;
        if (!this.mounted) {
          this.mounted = true;
          term.open(this.element);
        }
        this.fitToView();
      },
      // open() reports the failure in the status.
      () => undefined,
    );
    this.start();
    const observer = new ResizeObserver(() => this.fitToView());
    observer.observe(container);
    return () => {
      observer.disconnect();
      this.element.remove();
    };
  }

  /** Opens the shell if nothing has been asked yet (a restored tab opens before it is shown). */
  start(): void {
    if (this.status.value.state === "idle") void this.open();
  }

  focus(): void {
    void this.terminal().then(
      (term) => term.focus(),
      () => undefined,
    );
  }

  /** A new shell in this tab after the last one ended. */
  restart(): void {
    this.terminalId = newTerminalId();
    this.term?.reset();
    this.written = false;
    void this.open();
  }

  /** Ends the shell (the user closed its tab) and frees the view. */
  close(): void {
    const state = this.status.value.state;
    if (state === "open" || state === "opening")
      this.mux.post("terminal", { type: "close", terminal_id: this.terminalId });
    this.dispose();
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.resizeTimer);
    for (const dispose of this.disposers.splice(0)) dispose();
    this.element.remove();
  }

  private async open(): Promise<void> {
    this.opening = true;
    this.status.value = { state: "opening" };
    try {
      const term = await this.terminal();
      // A re-attach replays the scrollback: start from a clean screen so nothing shows twice.
      if (this.written) {
        term.reset();
        this.written = false;
      }
      await this.mux.request(
        "terminal",
        {
          type: "open",
          terminal_id: this.terminalId,
          workspace_path: this.workspacePath,
          cols: term.cols,
          rows: term.rows,
        },
        TerminalOpenedFrame,
      );
      if (this.status.value.state === "opening") this.status.value = { state: "open" };
      // The view may have been resized while the open was on its way.
      this.scheduleResize();
    } catch (error) {
      // The socket went away: the reconnect re-opens (see onReady).
      if (error instanceof CommandError && error.code === "connection_lost") return;
      const code = error instanceof CommandError ? error.code : "internal";
      this.status.value = { state: "failed", error: errorText(error), code };
      this.onEnded(this);
    } finally {
      this.opening = false;
    }
  }

  private receive(frame: z.infer<typeof ServerFrame>): void {
    switch (frame.type) {
      case "output":
        this.written = true;
        this.term?.write(base64ToBytes(frame.data_base64));
        return;
      case "exit":
        this.status.value = {
          state: "exited",
          ...(frame.exit_code === undefined ? {} : { exitCode: frame.exit_code }),
          ...(frame.signal === undefined ? {} : { signal: frame.signal }),
        };
        this.onEnded(this);
        return;
      case "error":
        this.status.value = { state: "failed", error: frame.error, code: frame.code };
        this.onEnded(this);
        return;
    }
  }

  /** Fits rows and columns to the view; hidden views (no size) are left alone. */
  private fitToView(): void {
    if (!this.mounted || this.element.clientWidth === 0 || this.element.clientHeight === 0) return;
    this.fit?.fit();
  }

  private scheduleResize(): void {
    clearTimeout(this.resizeTimer);
    this.resizeTimer = setTimeout(() => {
      const term = this.term;
      if (this.status.value.state !== "open" || !term) return;
      this.mux.post("terminal", {
        type: "resize",
        terminal_id: this.terminalId,
        cols: term.cols,
        rows: term.rows,
      });
    }, RESIZE_DEBOUNCE_MS);
  }
}
