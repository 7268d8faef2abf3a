import { describe, expect, test } from "bun:test";
import { LineSplitter } from "../../src/shared/line-splitter.ts";

function split(chunks: Array<string | Uint8Array>, max = 1024) {
  const lines: string[] = [];
  const overflows: number[] = [];
  const splitter = new LineSplitter(
    (l) => lines.push(l),
    max,
    (n) => overflows.push(n),
  );
  for (const chunk of chunks) splitter.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return { lines, overflows };
}

describe("LineSplitter", () => {
  test("splits on LF only, never on U+2028/U+2029, and strips a trailing CR", () => {
    const { lines } = split(['{"a":"x\u2028y"}\n{"b":\u20291}\r\n']);
    expect(lines).toEqual(['{"a":"x\u2028y"}', '{"b":\u20291}']);
  });

  test("joins lines split across chunks, including inside a multi-byte character", () => {
    const bytes = Buffer.from('{"t":"héllo"}\n');
    const cut = bytes.indexOf(0xc3) + 1; // between the two bytes of é
    const { lines } = split([bytes.subarray(0, cut), bytes.subarray(cut)]);
    expect(lines).toEqual(['{"t":"héllo"}']);
  });

  test("drops an oversized line whole and keeps going with the next one", () => {
    const { lines, overflows } = split(["x".repeat(30), "y".repeat(30), "z\nok\n"], 50);
    expect(overflows.length).toBe(1);
    expect(lines).toEqual(["ok"]);
  });

  test("ignores empty lines", () => {
    expect(split(["\n\na\n\n"]).lines).toEqual(["a"]);
  });
});
