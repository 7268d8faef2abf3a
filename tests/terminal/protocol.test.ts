/** The terminal frames of PROTOCOL.md §2.3 and §3.3 as zod schemas. */
import { describe, expect, test } from "bun:test";
import {
  TerminalMethods,
  TerminalMuxRequest,
  TerminalPush,
  TerminalServerFrame,
} from "../../src/protocol/terminal.ts";

describe("terminal mux frames", () => {
  test("client frames parse, with open's optional fields", () => {
    expect(
      TerminalMuxRequest.parse({
        channel: "terminal",
        id: "r1",
        type: "open",
        workspace_path: "/w/a",
        cols: 80,
        rows: 24,
      }),
    ).toMatchObject({ type: "open", cols: 80 });
    expect(
      TerminalMuxRequest.parse({ channel: "terminal", type: "input", terminal_id: "t1", data: "ls\r" }),
    ).toMatchObject({ type: "input", data: "ls\r" });
    expect(
      TerminalMuxRequest.parse({
        channel: "terminal",
        type: "resize",
        terminal_id: "t1",
        cols: 1,
        rows: 1000,
      }).type,
    ).toBe("resize");
    expect(TerminalMuxRequest.parse({ channel: "terminal", type: "close", terminal_id: "t1" }).type).toBe(
      "close",
    );
  });

  test("bad client frames are refused", () => {
    const base = { channel: "terminal", terminal_id: "t1" };
    expect(TerminalMuxRequest.safeParse({ ...base, type: "resize", cols: 0, rows: 24 }).success).toBe(false);
    expect(TerminalMuxRequest.safeParse({ ...base, type: "resize", cols: 80, rows: 1001 }).success).toBe(
      false,
    );
    expect(TerminalMuxRequest.safeParse({ ...base, type: "input", data: 5 }).success).toBe(false);
    expect(TerminalMuxRequest.safeParse({ ...base, type: "close", extra: 1 }).success).toBe(false);
    expect(TerminalMuxRequest.safeParse({ ...base, type: "attach" }).success).toBe(false);
    expect(TerminalMuxRequest.safeParse({ ...base, channel: "files", type: "close" }).success).toBe(false);
  });

  test("server frames parse; output needs base64", () => {
    expect(
      TerminalServerFrame.parse({ channel: "terminal", type: "opened", id: "r1", terminal_id: "t1" }).type,
    ).toBe("opened");
    expect(
      TerminalServerFrame.parse({
        channel: "terminal",
        type: "output",
        terminal_id: "t1",
        data_base64: "aGk=",
      }).type,
    ).toBe("output");
    expect(
      TerminalServerFrame.safeParse({
        channel: "terminal",
        type: "output",
        terminal_id: "t1",
        data_base64: "h i",
      }).success,
    ).toBe(false);
    expect(
      TerminalServerFrame.parse({ channel: "terminal", type: "exit", terminal_id: "t1", exit_code: 7 }),
    ).toEqual({
      channel: "terminal",
      type: "exit",
      terminal_id: "t1",
      exit_code: 7,
    });
    expect(
      TerminalServerFrame.parse({
        channel: "terminal",
        type: "error",
        terminal_id: "t1",
        error: "gone",
        code: "not_found",
      }).type,
    ).toBe("error");
  });
});

describe("terminal runner frames", () => {
  test("push frames", () => {
    expect(TerminalPush.parse({ type: "terminal_output", terminal_id: "t1", data_base64: "" }).type).toBe(
      "terminal_output",
    );
    expect(TerminalPush.parse({ type: "terminal_exit", terminal_id: "t1", signal: "SIGHUP" })).toEqual({
      type: "terminal_exit",
      terminal_id: "t1",
      signal: "SIGHUP",
    });
  });

  test("method params and results", () => {
    const open = TerminalMethods["terminal.open"];
    expect(
      open.params.safeParse({ workspace_path: "/w/a", cols: 80, rows: 24, session_id: "oqto-1" }).success,
    ).toBe(true);
    expect(open.params.safeParse({ workspace_path: "/w/a", cols: 80 }).success).toBe(false);
    expect(open.result.parse({ terminal_id: "t1", pid: 42 })).toEqual({ terminal_id: "t1", pid: 42 });
    expect(
      TerminalMethods["terminal.close"].params.safeParse({ terminal_id: "t1", force: true }).success,
    ).toBe(false);
  });
});
