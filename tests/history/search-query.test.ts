import { describe, expect, test } from "bun:test";
import { SearchMode } from "../../src/gen/hstry_service_pb.ts";
import { chooseSearchIndex, toMatchExpression } from "../../src/history/service/search-query.ts";

describe("toMatchExpression", () => {
  test("quotes every term as a phrase and doubles inner quotes", () => {
    expect(toMatchExpression("hello world")).toBe('"hello" "world"');
    expect(toMatchExpression('say "hi"')).toBe('"say" """hi"""');
    expect(toMatchExpression("  spaced \t out\n")).toBe('"spaced" "out"');
  });

  test("operators become plain quoted terms", () => {
    expect(toMatchExpression("a OR b")).toBe('"a" "OR" "b"');
    expect(toMatchExpression("NEAR(a b, 3)")).toBe('"NEAR(a" "b," "3)"');
    expect(toMatchExpression("pre* ^start col:x (unbalanced")).toBe('"pre*" "^start" "col:x" "(unbalanced"');
  });

  test("blank input has no expression", () => {
    expect(toMatchExpression("")).toBeNull();
    expect(toMatchExpression(" \n\t ")).toBeNull();
  });
});

describe("chooseSearchIndex", () => {
  test("explicit modes win", () => {
    expect(chooseSearchIndex(SearchMode.NATURAL, "src/main.ts")).toBe("natural");
    expect(chooseSearchIndex(SearchMode.CODE, "plain words")).toBe("code");
  });

  test.each([
    ["snake_case", "code"],
    ["src/main.ts", "code"],
    ["http://x", "code"],
    ["call()", "code"],
    ["camelCase", "code"],
    ["plain words", "natural"],
    ["Capitalized Words", "natural"],
    ["ALLCAPS", "natural"],
  ])("auto: %s -> %s", (query, expected) => {
    expect(chooseSearchIndex(SearchMode.AUTO, query)).toBe(expected as "code" | "natural");
  });
});
