import { effect, signal } from "@preact/signals";
import { FitAddon } from "@xterm/addon-fit";
import { type ITheme, Terminal } from "@xterm/xterm";
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
  private readonly term: Terminal;
  private readonly fit = new FitAddon();
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
    this.term = new Terminal({
      cursorBlink: true,
      fontFamily: 'ui-monospace, "SFMono-Regular", "JetBrains Mono", Menlo, Consolas, monospace',
      fontSize: 13,
      scrollback: 5000,
    });
    this.term.loadAddon(this.fit);
    const data = this.term.onData((input) => {
      if (this.status.value.state === "open")
        this.mux.post("terminal", { type: "input", terminal_id: this.terminalId, data: input });
    });
    const resize = this.term.onResize(() => this.scheduleResize());
    this.disposers.push(
      () => data.dispose(),
      () => resize.dispose(),
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
        this.term.options.theme = THEMES[effectiveTheme.value];
      }),
    );
  }

  /**
   * Shows the terminal in `container` and follows its size. The first time, xterm renders into
   * the page and the shell is opened at the fitted size. Returns the detach function.
   */
  attach(container: HTMLElement): () => void {
    container.append(this.element);
    if (!this.mounted) {
      this.mounted = true;
      this.term.open(this.element);
    }
    this.fitToView();
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
    this.term.focus();
  }

  /** A new shell in this tab after the last one ended. */
  restart(): void {
    this.terminalId = newTerminalId();
    this.term.reset();
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
    clearTimeout(this.resizeTimer);
    for (const dispose of this.disposers) dispose();
    this.term.dispose();
    this.element.remove();
  }

  private async open(): Promise<void> {
    this.opening = true;
    this.status.value = { state: "opening" };
    // A re-attach replays the scrollback: start from a clean screen so nothing shows twice.
    if (this.written) {
      this.term.reset();
      this.written = false;
    }
    try {
      await this.mux.request(
        "terminal",
        {
          type: "open",
          terminal_id: this.terminalId,
          workspace_path: this.workspacePath,
          cols: this.term.cols,
          rows: this.term.rows,
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
        this.term.write(base64ToBytes(frame.data_base64));
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
    this.fit.fit();
  }

  private scheduleResize(): void {
    clearTimeout(this.resizeTimer);
    this.resizeTimer = setTimeout(() => {
      if (this.status.value.state !== "open") return;
      this.mux.post("terminal", {
        type: "resize",
        terminal_id: this.terminalId,
        cols: this.term.cols,
        rows: this.term.rows,
      });
    }, RESIZE_DEBOUNCE_MS);
  }
}
