import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { z } from "zod";
import {
  FilesCreateDirectoryParams,
  FilesDeleteParams,
  FilesListParams,
  FilesMethods,
  FilesMuxRequest,
  FilesReadParams,
  FilesRenameParams,
  FilesStatParams,
  FilesTransferParams,
  FilesTreeParams,
  FilesWriteParams,
  TreeResult,
} from "../../src/protocol/files.ts";
import { expectCode, type FilesFixture, makeFixture, randomBytes, sha256 } from "./helpers.ts";

let fx: FilesFixture;
beforeEach(() => {
  fx = makeFixture();
});
afterEach(async () => {
  await fx.cleanup();
});

const b64 = (bytes: Uint8Array | string) => Buffer.from(bytes).toString("base64");
/** Params as the runner server hands them over: parsed by the method's schema, defaults applied. */
function params<S extends z.ZodType>(schema: S, body: Record<string, unknown>): z.output<S> {
  return schema.parse({ workspace_path: fx.ws, ...body });
}

function makeTree(): void {
  mkdirSync(join(fx.ws, "src", "lib", "deep"), { recursive: true });
  mkdirSync(join(fx.ws, ".git"));
  writeFileSync(join(fx.ws, "README.md"), "# hi\n");
  writeFileSync(join(fx.ws, ".env"), "X=1");
  writeFileSync(join(fx.ws, "src", "main.ts"), "main");
  writeFileSync(join(fx.ws, "src", "lib", "util.ts"), "util");
  writeFileSync(join(fx.ws, "src", "lib", "deep", "leaf.ts"), "leaf");
}

describe("params", () => {
  test("defaults apply and bad input is refused with a clear message", () => {
    expect(params(FilesTreeParams, {})).toMatchObject({
      path: ".",
      depth: 2,
      include_hidden: false,
      offset: 0,
      limit: 1000,
    });
    expect(params(FilesReadParams, { path: "a" })).toMatchObject({ offset: 0, length: 1024 * 1024 });
    expect(FilesMethods["files.tree"].params.safeParse({ workspace_path: fx.ws, depth: 9 }).success).toBe(
      false,
    );
    expect(FilesMethods["files.tree"].params.safeParse({ workspace_path: fx.ws, limit: 5001 }).success).toBe(
      false,
    );
    expect(
      FilesMethods["files.read"].params.safeParse({
        workspace_path: fx.ws,
        path: "a",
        length: 5 * 1024 * 1024,
      }).success,
    ).toBe(false);
    const badBase64 = FilesMethods["files.write"].params.safeParse({
      workspace_path: fx.ws,
      path: "a",
      content: "%%%",
    });
    expect(badBase64.error?.issues[0]?.message).toContain("base64");
    const stray = FilesMethods["files.write"].params.safeParse({
      workspace_path: fx.ws,
      path: "a",
      content: "",
      final: true,
    });
    expect(stray.error?.issues[0]?.message).toContain("upload_id");
    expect(
      FilesMethods["files.stat"].params.safeParse({ workspace_path: fx.ws, path: "a", extra: 1 }).success,
    ).toBe(false);
    const mux = FilesMuxRequest.parse({
      channel: "files",
      id: "1",
      type: "copy",
      workspace_path: fx.ws,
      from: "a",
      to: "b",
    });
    expect(mux).toMatchObject({ type: "copy", overwrite: false });
    expect(
      FilesMuxRequest.safeParse({ channel: "files", type: "chmod", workspace_path: fx.ws }).success,
    ).toBe(false);
  });
});

describe("tree, list, stat", () => {
  test("tree honours depth and hidden entries, directories first", async () => {
    makeTree();
    const shallow = TreeResult.parse(await fx.service.tree(params(FilesTreeParams, { depth: 1 })));
    expect(shallow).toMatchObject({ path: ".", truncated: false, total_entries: 2 });
    expect(shallow.entries.map((e) => [e.name, e.type, e.children])).toEqual([
      ["src", "directory", undefined],
      ["README.md", "file", undefined],
    ]);
    expect(shallow.entries[1]?.size).toBe(5);

    const deep = await fx.service.tree(params(FilesTreeParams, { depth: 3, include_hidden: true }));
    expect(deep.entries.map((e) => e.name)).toEqual([".git", "src", ".env", "README.md"]);
    const src = deep.entries.find((e) => e.name === "src");
    expect(src?.children?.map((e) => e.path)).toEqual(["src/lib", "src/main.ts"]);
    const lib = src?.children?.[0];
    expect(lib?.children?.map((e) => e.path)).toEqual(["src/lib/deep", "src/lib/util.ts"]);
    // Depth 3 stops there: the deepest directory is listed but not loaded.
    expect(lib?.children?.[0]?.children).toBeUndefined();

    const sub = await fx.service.tree(params(FilesTreeParams, { path: "src/lib", depth: 2 }));
    expect(sub.path).toBe("src/lib");
    expect(sub.entries[0]?.children?.[0]?.path).toBe("src/lib/deep/leaf.ts");
  });

  test("tree pages its top level with offset/limit", async () => {
    for (let i = 0; i < 25; i++) writeFileSync(join(fx.ws, `f${String(i).padStart(2, "0")}`), "");
    const first = await fx.service.tree(params(FilesTreeParams, { limit: 10 }));
    expect(first).toMatchObject({ truncated: true, next_offset: 10, total_entries: 25 });
    expect(first.stop_reason).toBeUndefined();
    const last = await fx.service.tree(params(FilesTreeParams, { offset: 20, limit: 10 }));
    expect(last.entries.map((e) => e.name)).toEqual(["f20", "f21", "f22", "f23", "f24"]);
    expect(last).toMatchObject({ truncated: false, total_entries: 25 });
    expect(last.next_offset).toBeUndefined();
  });

  test("tree stops at its node budget and says so", async () => {
    for (let d = 0; d < 5; d++) {
      mkdirSync(join(fx.ws, `d${d}`));
      for (let f = 0; f < 10; f++) writeFileSync(join(fx.ws, `d${d}`, `f${f}`), "");
    }
    const small = makeFixture({ maxTreeNodes: 30 });
    try {
      mkdirSync(join(small.ws, "x"));
      for (let d = 0; d < 5; d++) {
        mkdirSync(join(small.ws, "x", `d${d}`));
        for (let f = 0; f < 10; f++) writeFileSync(join(small.ws, "x", `d${d}`, `f${f}`), "");
      }
      const tree = await small.service.tree({
        ...params(FilesTreeParams, { depth: 3 }),
        workspace_path: small.ws,
      });
      expect(tree).toMatchObject({ truncated: true, stop_reason: "max_nodes" });
      const dirs = tree.entries[0]?.children ?? [];
      expect(dirs).toHaveLength(5);
      // 1 + 5 + 2 × 10 nodes fit in 30; the other directories are left unloaded.
      expect(dirs.map((d) => d.children?.length)).toEqual([10, 10, undefined, undefined, undefined]);
    } finally {
      await small.cleanup();
    }
    const full = await fx.service.tree(params(FilesTreeParams, { depth: 2 }));
    expect(full.truncated).toBe(false);
  });

  test("list and stat describe entries; missing paths and files-as-directories are clear errors", async () => {
    makeTree();
    chmodSync(join(fx.ws, "README.md"), 0o640);
    const list = await fx.service.list(params(FilesListParams, { path: "src" }));
    expect(list.entries.map((e) => [e.name, e.is_dir, e.is_symlink])).toEqual([
      ["lib", true, false],
      ["main.ts", false, false],
    ]);
    expect(list.entries[1]?.size).toBe(4);
    const { stat } = await fx.service.stat(params(FilesStatParams, { path: "README.md" }));
    expect(stat).toMatchObject({ exists: true, is_file: true, is_dir: false, size: 5, mode: 0o640 });
    expect(stat.modified_at).toBe(Math.round(statSync(join(fx.ws, "README.md")).mtimeMs));
    expect((await fx.service.stat(params(FilesStatParams, { path: "nope/x" }))).stat.exists).toBe(false);
    expect((await fx.service.stat(params(FilesStatParams, { path: "." }))).stat.is_dir).toBe(true);
    await expectCode(fx.service.list(params(FilesListParams, { path: "missing" })), "path_not_found");
    await expectCode(fx.service.list(params(FilesListParams, { path: "README.md" })), "not_a_directory");
    await expectCode(fx.service.read(params(FilesReadParams, { path: "src" })), "not_a_file");
  });

  test("list refuses directories above its entry limit", async () => {
    const small = makeFixture({ maxListEntries: 3 });
    try {
      for (let i = 0; i < 4; i++) writeFileSync(join(small.ws, `f${i}`), "");
      const msg = await expectCode(
        small.service.list({ workspace_path: small.ws, path: ".", include_hidden: false }),
        "too_large",
      );
      expect(msg).toContain("4 entries");
    } finally {
      await small.cleanup();
    }
  });
});

describe("read and write", () => {
  test("binary content round trips byte-identical, and ranges read the right bytes", async () => {
    const bytes = randomBytes(300_000, 7);
    const written = await fx.service.write(
      params(FilesWriteParams, { path: "bin/data.bin", content: b64(bytes), create_parents: true }),
    );
    expect(written).toEqual({ path: "bin/data.bin", size: bytes.length, success: true });
    expect(sha256(readFileSync(join(fx.ws, "bin", "data.bin")))).toBe(sha256(bytes));

    const whole = await fx.service.read(params(FilesReadParams, { path: "bin/data.bin" }));
    expect(whole).toMatchObject({ offset: 0, size: bytes.length, eof: true });
    expect(sha256(Buffer.from(whole.content, "base64"))).toBe(sha256(bytes));

    const middle = await fx.service.read(
      params(FilesReadParams, { path: "bin/data.bin", offset: 1000, length: 10 }),
    );
    expect(Buffer.from(middle.content, "base64")).toEqual(Buffer.from(bytes.subarray(1000, 1010)));
    expect(middle.eof).toBe(false);
    const past = await fx.service.read(params(FilesReadParams, { path: "bin/data.bin", offset: 400_000 }));
    expect(past).toMatchObject({ content: "", eof: true });
  });

  test("reads are capped at the configured limit", async () => {
    const small = makeFixture({ maxReadBytes: 100 });
    try {
      writeFileSync(join(small.ws, "f"), "x".repeat(250));
      const read = await small.service.read({ workspace_path: small.ws, path: "f", offset: 0, length: 4096 });
      expect(Buffer.from(read.content, "base64").length).toBe(100);
      expect(read.eof).toBe(false);
    } finally {
      await small.cleanup();
    }
  });

  test("writes replace atomically, keep the mode, and honour overwrite and create_parents", async () => {
    writeFileSync(join(fx.ws, "run.sh"), "old");
    chmodSync(join(fx.ws, "run.sh"), 0o755);
    const inodeBefore = statSync(join(fx.ws, "run.sh")).ino;
    await fx.service.write(params(FilesWriteParams, { path: "run.sh", content: b64("new") }));
    expect(readFileSync(join(fx.ws, "run.sh"), "utf8")).toBe("new");
    expect(statSync(join(fx.ws, "run.sh")).mode & 0o777).toBe(0o755);
    // A new inode: the content was renamed into place, not rewritten in place.
    expect(statSync(join(fx.ws, "run.sh")).ino).not.toBe(inodeBefore);

    await expectCode(
      fx.service.write(params(FilesWriteParams, { path: "run.sh", content: b64("x"), overwrite: false })),
      "path_exists",
    );
    expect(readFileSync(join(fx.ws, "run.sh"), "utf8")).toBe("new");
    await expectCode(
      fx.service.write(params(FilesWriteParams, { path: "a/b/c.txt", content: b64("x") })),
      "path_not_found",
    );
    mkdirSync(join(fx.ws, "dir"));
    await expectCode(
      fx.service.write(params(FilesWriteParams, { path: "dir", content: b64("x") })),
      "not_a_file",
    );
    expect(readdirSync(fx.ws).sort()).toEqual(["dir", "run.sh"]);
  });

  test("a write above the per-request limit is refused", async () => {
    const small = makeFixture({ maxWriteBytes: 10 });
    try {
      const msg = await expectCode(
        small.service.write({
          workspace_path: small.ws,
          path: "f",
          content: b64("x".repeat(11)),
          create_parents: false,
          overwrite: true,
        }),
        "too_large",
      );
      expect(msg).toContain("upload_id");
      expect(existsSync(join(small.ws, "f"))).toBe(false);
    } finally {
      await small.cleanup();
    }
  });
});

describe("chunked uploads", () => {
  test("chunks land in a hidden temp file and become the file on final", async () => {
    const bytes = randomBytes(100_000, 3);
    const chunk = (offset: number, end: number, final?: boolean) =>
      fx.service.write(
        params(FilesWriteParams, {
          path: "up/big.bin",
          content: b64(bytes.subarray(offset, end)),
          create_parents: true,
          upload_id: "u-1",
          offset,
          ...(final ? { final } : {}),
        }),
      );
    expect(await chunk(0, 40_000)).toMatchObject({ size: 40_000, success: true });
    expect(existsSync(join(fx.ws, "up", "big.bin"))).toBe(false);
    expect(
      (await fx.service.list(params(FilesListParams, { path: "up", include_hidden: true }))).entries,
    ).toEqual([]);
    // A gap is refused; the upload goes on.
    const gap = await expectCode(chunk(50_000, 60_000), "invalid_request");
    expect(gap).toContain("40000 bytes received");
    // A retried chunk rewrites the same bytes.
    await chunk(0, 40_000);
    expect(await chunk(40_000, 100_000, true)).toMatchObject({ path: "up/big.bin", size: 100_000 });
    expect(sha256(readFileSync(join(fx.ws, "up", "big.bin")))).toBe(sha256(bytes));
    expect(readdirSync(join(fx.ws, "up"))).toEqual(["big.bin"]);
    // The upload is finished: continuing it is an unknown upload.
    await expectCode(chunk(100_000, 100_001), "not_found");
  });

  test("an upload over the size limit is dropped with its temp file; overwrite=false is honoured at the end", async () => {
    const small = makeFixture({ maxFileBytes: 1000 });
    try {
      const write = (offset: number, length: number, extra: Record<string, unknown> = {}) =>
        small.service.write(
          FilesMethods["files.write"].params.parse({
            workspace_path: small.ws,
            path: "f.bin",
            content: b64(randomBytes(length)),
            upload_id: "big",
            offset,
            ...extra,
          }),
        );
      await write(0, 600);
      await expectCode(write(600, 600), "too_large");
      expect(readdirSync(small.ws)).toEqual([]);
      await expectCode(write(600, 10), "not_found");

      await write(0, 10, { overwrite: false });
      writeFileSync(join(small.ws, "f.bin"), "someone else's");
      await expectCode(write(10, 10, { overwrite: false, final: true }), "path_exists");
      expect(readFileSync(join(small.ws, "f.bin"), "utf8")).toBe("someone else's");
      expect(readdirSync(small.ws)).toEqual(["f.bin"]);
    } finally {
      await small.cleanup();
    }
  });

  test("an idle upload expires and its temp file is removed", async () => {
    const small = makeFixture({ uploadIdleMs: 100 });
    try {
      await small.service.write({
        workspace_path: small.ws,
        path: "f.bin",
        content: b64("abc"),
        create_parents: false,
        overwrite: true,
        upload_id: "idle",
        offset: 0,
      });
      expect(readdirSync(small.ws)).toHaveLength(1);
      await Bun.sleep(300);
      expect(readdirSync(small.ws)).toEqual([]);
    } finally {
      await small.cleanup();
    }
  });
});

describe("delete, create_directory, rename, move, copy", () => {
  test("delete: files, empty and non-empty directories, never the workspace", async () => {
    makeTree();
    await fx.service.delete(params(FilesDeleteParams, { path: "README.md" }));
    expect(existsSync(join(fx.ws, "README.md"))).toBe(false);
    const msg = await expectCode(
      fx.service.delete(params(FilesDeleteParams, { path: "src" })),
      "invalid_request",
    );
    expect(msg).toContain("recursive");
    await fx.service.delete(params(FilesDeleteParams, { path: "src", recursive: true }));
    expect(existsSync(join(fx.ws, "src"))).toBe(false);
    await fx.service.delete(params(FilesDeleteParams, { path: ".git" }));
    await expectCode(
      fx.service.delete(params(FilesDeleteParams, { path: ".", recursive: true })),
      "path_not_allowed",
    );
    await expectCode(fx.service.delete(params(FilesDeleteParams, { path: "missing" })), "path_not_found");
    expect(existsSync(fx.ws)).toBe(true);
  });

  test("create_directory: with and without parents", async () => {
    await fx.service.createDirectory(params(FilesCreateDirectoryParams, { path: "a/b/c" }));
    expect(statSync(join(fx.ws, "a", "b", "c")).isDirectory()).toBe(true);
    await fx.service.createDirectory(params(FilesCreateDirectoryParams, { path: "a/b/c" }));
    await expectCode(
      fx.service.createDirectory(
        params(FilesCreateDirectoryParams, { path: "a/b/c", create_parents: false }),
      ),
      "path_exists",
    );
    await expectCode(
      fx.service.createDirectory(params(FilesCreateDirectoryParams, { path: "x/y", create_parents: false })),
      "path_not_found",
    );
  });

  test("rename never replaces; move replaces only with overwrite and only the same kind", async () => {
    makeTree();
    writeFileSync(join(fx.ws, "other.md"), "other");
    await expectCode(
      fx.service.rename(params(FilesRenameParams, { from: "README.md", to: "other.md" })),
      "path_exists",
    );
    expect(await fx.service.rename(params(FilesRenameParams, { from: "README.md", to: "docs.md" }))).toEqual({
      from: "README.md",
      to: "docs.md",
      success: true,
    });
    await fx.service.move(params(FilesTransferParams, { from: "docs.md", to: "other.md", overwrite: true }));
    expect(readFileSync(join(fx.ws, "other.md"), "utf8")).toBe("# hi\n");
    await expectCode(
      fx.service.move(params(FilesTransferParams, { from: "other.md", to: "src", overwrite: true })),
      "not_a_file",
    );
    await expectCode(
      fx.service.move(params(FilesTransferParams, { from: "src", to: "src/lib/inside" })),
      "invalid_request",
    );
    await fx.service.move(params(FilesTransferParams, { from: "src/lib", to: "lib" }));
    expect(readFileSync(join(fx.ws, "lib", "deep", "leaf.ts"), "utf8")).toBe("leaf");
    await expectCode(
      fx.service.move(params(FilesTransferParams, { from: ".", to: "x" })),
      "path_not_allowed",
    );
    await expectCode(
      fx.service.move(params(FilesTransferParams, { from: "missing", to: "x" })),
      "path_not_found",
    );
  });

  test("copy: files and directory trees, symlinks kept as links, replaced only with overwrite", async () => {
    makeTree();
    chmodSync(join(fx.ws, "src", "main.ts"), 0o700);
    await fx.service.copy(params(FilesTransferParams, { from: "src/main.ts", to: "main-copy.ts" }));
    expect(readFileSync(join(fx.ws, "main-copy.ts"), "utf8")).toBe("main");
    expect(statSync(join(fx.ws, "main-copy.ts")).mode & 0o777).toBe(0o700);
    await expectCode(
      fx.service.copy(params(FilesTransferParams, { from: "src/main.ts", to: "main-copy.ts" })),
      "path_exists",
    );

    Bun.spawnSync(["ln", "-s", "main.ts", join(fx.ws, "src", "alias.ts")]);
    await fx.service.copy(params(FilesTransferParams, { from: "src", to: "src2" }));
    expect(readFileSync(join(fx.ws, "src2", "lib", "deep", "leaf.ts"), "utf8")).toBe("leaf");
    expect(readFileSync(join(fx.ws, "src2", "alias.ts"), "utf8")).toBe("main");
    expect(statSync(join(fx.ws, "src2", "lib")).isDirectory()).toBe(true);

    writeFileSync(join(fx.ws, "src", "main.ts"), "changed");
    await fx.service.copy(params(FilesTransferParams, { from: "src", to: "src2", overwrite: true }));
    expect(readFileSync(join(fx.ws, "src2", "main.ts"), "utf8")).toBe("changed");
    await expectCode(
      fx.service.copy(params(FilesTransferParams, { from: "src", to: "src/lib/x" })),
      "invalid_request",
    );
    await expectCode(
      fx.service.copy(params(FilesTransferParams, { from: "src", to: "main-copy.ts", overwrite: true })),
      "not_a_directory",
    );
    // No temp directories are left over.
    expect(readdirSync(fx.ws).filter((n) => n.startsWith(".oqto"))).toEqual([]);
  });
});

test("operations, including failed ones, leave no file descriptor open", async () => {
  makeTree();
  const openFds = () => readdirSync("/proc/self/fd").length;
  const before = openFds();
  const s = fx.service;
  await s.tree(params(FilesTreeParams, { depth: 8, include_hidden: true }));
  await s.list(params(FilesListParams, { path: "src" }));
  await s.read(params(FilesReadParams, { path: "src/main.ts" }));
  await s.write(params(FilesWriteParams, { path: "n/new.txt", content: b64("x"), create_parents: true }));
  await s.copy(params(FilesTransferParams, { from: "src", to: "copy" }));
  await s.move(params(FilesTransferParams, { from: "copy", to: "moved" }));
  await s.delete(params(FilesDeleteParams, { path: "moved", recursive: true }));
  const zip = await s.zipStream(fx.ws, "src");
  await new Response(zip.stream).arrayBuffer();
  await expectCode(s.read(params(FilesReadParams, { path: "src/missing" })), "path_not_found");
  await expectCode(s.read(params(FilesReadParams, { path: "src/lib/deep/leaf.ts/x" })), "not_a_directory");
  await expectCode(s.write(params(FilesWriteParams, { path: "src", content: b64("x") })), "not_a_file");
  await expectCode(s.copy(params(FilesTransferParams, { from: "src", to: "src/x" })), "invalid_request");
  expect(openFds()).toBe(before);
});
