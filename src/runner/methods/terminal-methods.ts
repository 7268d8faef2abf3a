import type { TerminalMethod } from "../../protocol/index.ts";
import type { TerminalManager } from "../terminal/terminal-manager.ts";
import type { MethodTable } from "./types.ts";

/** The `terminal.*` methods; output and exits travel as pushes (see the manager's callbacks). */
export function terminalMethods(terminals: TerminalManager): MethodTable<TerminalMethod> {
  return {
    "terminal.open": async (params) => {
      const opened = await terminals.open(params);
      return {
        terminal_id: opened.terminal_id,
        pid: opened.pid,
        ...(opened.scrollback.length > 0
          ? { scrollback_base64: Buffer.from(opened.scrollback).toString("base64") }
          : {}),
      };
    },
    "terminal.input": ({ terminal_id, data }) => {
      terminals.input(terminal_id, data);
      return {};
    },
    "terminal.resize": ({ terminal_id, cols, rows }) => {
      terminals.resize(terminal_id, cols, rows);
      return {};
    },
    "terminal.close": ({ terminal_id }) => {
      terminals.close(terminal_id);
      return {};
    },
    "terminal.detach": ({ terminal_id }) => {
      terminals.detach(terminal_id);
      return {};
    },
  };
}
