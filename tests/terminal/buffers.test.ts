/** The scrollback ring and the output batcher on their own, against simple reference models. */
import { describe, expect, test } from "bun:test";
import { FALLBACK_SHELL, loginAccount, usableShell } from "../../src/runner/terminal/login-account.ts";
import { OutputBatcher } from "../../src/runner/terminal/output-batcher.ts";
import { ScrollbackBuffer } from "../../src/runner/terminal/scrollback-buffer.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

describe("ScrollbackBuffer", () => {
  test("keeps everything below the bound", () => {
    const buffer = new ScrollbackBuffer(16);
    buffer.append(bytes("abc"));
    buffer.append(bytes("def\n"));
    expect(text(buffer.snapshot())).toBe("abcdef\n");
    expect(buffer.size).toBe(7);
  });

  test("matches the tail of everything appended across many wrap-arounds", () => {
    const capacity = 37;
    const buffer = new ScrollbackBuffer(capacity);
    let all = new Uint8Array(0);
    let seed = 7;
    for (let round = 0; round < 500; round++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const chunk = new Uint8Array(seed % 60).map((_, i) => 0x21 + ((seed + i) % 90));
      buffer.append(chunk);
      const joined = new Uint8Array(all.length + chunk.length);
      joined.set(all);
      joined.set(chunk, all.length);
      all = joined;
      expect(buffer.size).toBe(Math.min(all.length, capacity));
    }
    // No LF was ever written, and all bytes are ASCII: the replay is exactly the tail.
    expect(buffer.snapshot()).toEqual(all.subarray(all.length - capacity));
  });

  test("after dropping output the replay starts at a line start", () => {
    const buffer = new ScrollbackBuffer(12);
    buffer.append(bytes("line-one\nline-two\nthree"));
    expect(text(buffer.snapshot())).toBe("three");
  });

  test("after dropping output without a line break the replay starts at a whole character", () => {
    const buffer = new ScrollbackBuffer(5);
    buffer.append(bytes("xxxxäöü"));
    // The last 5 bytes begin with the second byte of "ä"; that byte is skipped.
    expect(text(buffer.snapshot())).toBe("öü");
  });

  test("refuses a capacity that is not a positive integer", () => {
    expect(() => new ScrollbackBuffer(0)).toThrow(RangeError);
    expect(() => new ScrollbackBuffer(1.5)).toThrow(RangeError);
  });
});

describe("OutputBatcher", () => {
  test("the first chunk after a quiet period goes out at once; followers are merged", async () => {
    const emitted: string[] = [];
    const batcher = new OutputBatcher({ maxDelayMs: 30, maxBytes: 1024 }, (data) => emitted.push(text(data)));
    batcher.push(bytes("k"));
    expect(emitted).toEqual(["k"]);
    batcher.push(bytes("a"));
    batcher.push(bytes("b"));
    expect(emitted).toEqual(["k"]);
    await Bun.sleep(60);
    expect(emitted).toEqual(["k", "ab"]);
    // The window closes once a window passes without output; then a keystroke is immediate again.
    await Bun.sleep(60);
    batcher.push(bytes("z"));
    expect(emitted).toEqual(["k", "ab", "z"]);
    batcher.close();
  });

  test("a full batch goes out before the window ends, in pieces of at most maxBytes", () => {
    const emitted: Uint8Array[] = [];
    const batcher = new OutputBatcher({ maxDelayMs: 10_000, maxBytes: 4 }, (data) => emitted.push(data));
    batcher.push(bytes("1"));
    batcher.push(bytes("23"));
    expect(emitted.map(text)).toEqual(["1"]);
    batcher.push(bytes("45"));
    expect(emitted.map(text)).toEqual(["1", "2345"]);
    batcher.push(bytes("abcdefghij"));
    expect(emitted.map(text)).toEqual(["1", "2345", "abcd", "efgh", "ij"]);
    batcher.close();
  });

  test("close passes on what is pending", () => {
    const emitted: string[] = [];
    const batcher = new OutputBatcher({ maxDelayMs: 10_000, maxBytes: 1024 }, (data) =>
      emitted.push(text(data)),
    );
    batcher.push(bytes("a"));
    batcher.push(bytes("b"));
    batcher.close();
    expect(emitted).toEqual(["a", "b"]);
  });

  test("pushed chunks are copied, so a reused read buffer cannot change them", async () => {
    const emitted: string[] = [];
    const batcher = new OutputBatcher({ maxDelayMs: 20, maxBytes: 1024 }, (data) => emitted.push(text(data)));
    batcher.push(bytes("x"));
    const reused = bytes("yy");
    batcher.push(reused);
    reused.fill(0x21);
    await Bun.sleep(50);
    expect(emitted).toEqual(["x", "yy"]);
    batcher.close();
  });
});

describe("login account", () => {
  test("reads the passwd entry of the runner's user", () => {
    const uid = process.getuid?.() ?? -1;
    const line = Bun.spawnSync(["getent", "passwd", String(uid)])
      .stdout.toString()
      .trim();
    const [name, , , , , home, shell] = line.split(":");
    const account = loginAccount();
    expect(account.username).toBe(name ?? "");
    expect(account.home).toBe(home ?? "");
    expect(account.shell).toBe(usableShell(shell ?? ""));
  });

  test("falls back to bash for shells that refuse logins or do not exist", () => {
    expect(usableShell("/bin/sh")).toBe("/bin/sh");
    expect(usableShell("/usr/sbin/nologin")).toBe(FALLBACK_SHELL);
    expect(usableShell("/bin/false")).toBe(FALLBACK_SHELL);
    expect(usableShell("/nonexistent/zsh")).toBe(FALLBACK_SHELL);
    expect(usableShell("")).toBe(FALLBACK_SHELL);
  });

  test("an unknown uid is an error", () => {
    expect(() => loginAccount(4_000_000_000)).toThrow(/no Linux user '4000000000'/);
  });
});
