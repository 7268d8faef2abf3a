/** The composer's completion rules: which token the caret is in, what choosing an entry writes, the order of entries. */
import { describe, expect, test } from "bun:test";
import { builtinInvocation } from "../../ui/src/components/chat/composer/builtin-commands.ts";
import {
  applyCompletion,
  rankByQuery,
  tokenAt,
} from "../../ui/src/components/chat/composer/completion-token.ts";

describe("tokenAt", () => {
  test("a command only at the start of the message, up to the first space", () => {
    expect(tokenAt("/ha", 3)).toEqual({ kind: "command", start: 0, end: 3, query: "ha" });
    expect(tokenAt("/", 1)).toEqual({ kind: "command", start: 0, end: 1, query: "" });
    expect(tokenAt("/haiku frogs", 12)).toBeNull();
    expect(tokenAt("say /ha", 7)).toBeNull();
    expect(tokenAt(" /ha", 4)).toBeNull();
  });

  test("a path after a space or at the start, not inside a word (an e-mail address)", () => {
    expect(tokenAt("look at @src/ma", 15)).toEqual({ kind: "path", start: 8, end: 15, query: "src/ma" });
    expect(tokenAt("@", 1)).toEqual({ kind: "path", start: 0, end: 1, query: "" });
    expect(tokenAt("mail me@example.org", 19)).toBeNull();
    expect(tokenAt("@src/main.ts done", 17)).toBeNull();
  });

  test("the caret decides: text after it does not count", () => {
    expect(tokenAt("look at @sr and more", 11)).toEqual({ kind: "path", start: 8, end: 11, query: "sr" });
    expect(tokenAt("/haiku", 0)).toBeNull();
  });
});

describe("applyCompletion", () => {
  test("replaces the token and puts the caret after the insertion", () => {
    const token = tokenAt("look at @sr please", 11);
    if (!token) throw new Error("no token");
    expect(
      applyCompletion("look at @sr please", token, { id: "f", label: "src", insert: "src/main.ts " }),
    ).toEqual({
      text: "look at src/main.ts please",
      caret: 19,
    });
    const command = tokenAt("/ha", 3);
    if (!command) throw new Error("no token");
    expect(applyCompletion("/ha", command, { id: "c", label: "/haiku", insert: "/haiku " })).toEqual({
      text: "/haiku ",
      caret: 7,
    });
  });
});

describe("rankByQuery", () => {
  test("prefix matches first, then substring matches, case-insensitive; others are dropped", () => {
    const names = ["skill:tidy-notes", "Tidy", "haiku", "untidy"];
    expect(rankByQuery(names, "tid", (n) => n)).toEqual(["Tidy", "skill:tidy-notes", "untidy"]);
    expect(rankByQuery(names, "", (n) => n)).toEqual(names);
  });
});

describe("builtinInvocation", () => {
  test("names a built-in with its arguments; anything else is for pi", () => {
    expect(builtinInvocation("/name  Frog poems ")?.args).toBe("Frog poems");
    expect(builtinInvocation("/compact")?.command.name).toBe("compact");
    expect(builtinInvocation("/name")?.command.requires).toBe("the new name");
    expect(builtinInvocation("/haiku frogs")).toBeNull();
    expect(builtinInvocation("please /compact")).toBeNull();
  });
});
