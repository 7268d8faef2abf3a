import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { linkSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { collect, expectCode, type FilesFixture, makeFixture, SECRET } from "./helpers.ts";

let fx: FilesFixture;
let before: string[];

beforeEach(() => {
  fx = makeFixture();
  before = fx.outsideListing();
});
afterEach(async () => {
  // Whatever a test tried, nothing outside the workspace was created, removed or changed.
  expect(fx.outsideListing()).toEqual(before);
  expect(readFileSync(join(fx.outside, "secret.txt"), "utf8")).toBe(SECRET);
  expect(readFileSync(join(fx.outside, "sub", "secret.txt"), "utf8")).toBe(SECRET);
  await fx.cleanup();
});

const b64 = (text: string) => Buffer.from(text).toString("base64");

describe("lexical escapes", () => {
  test("'..' is refused everywhere, even when it would stay inside", async () => {
    const s = fx.service;
    const ws = fx.ws;
    for (const path of ["../other-home/secret.txt", "../../other-home/secret.txt", "a/../../x", "a/../b"]) {
      await expectCode(s.read({ workspace_path: ws, path, offset: 0, length: 100 }), "path_not_allowed");
      await expectCode(
        s.write({ workspace_path: ws, path, content: b64("x"), create_parents: true, overwrite: true }),
        "path_not_allowed",
      );
    }
    await expectCode(s.stat({ workspace_path: ws, path: ".." }), "path_not_allowed");
    await expectCode(s.list({ workspace_path: ws, path: "..", include_hidden: false }), "path_not_allowed");
    await expectCode(
      s.delete({ workspace_path: ws, path: "../other-home", recursive: true }),
      "path_not_allowed",
    );
    await expectCode(
      s.move({ workspace_path: ws, from: "../other-home/secret.txt", to: "stolen.txt", overwrite: false }),
      "path_not_allowed",
    );
    await expectCode(
      s.copy({ workspace_path: ws, from: "x", to: "../other-home/planted.txt", overwrite: true }),
      "path_not_allowed",
    );
  });

  test("absolute paths and NUL bytes are refused", async () => {
    const s = fx.service;
    const msg = await expectCode(
      s.read({ workspace_path: fx.ws, path: join(fx.outside, "secret.txt"), offset: 0, length: 100 }),
      "path_not_allowed",
    );
    expect(msg).toContain("absolute");
    await expectCode(s.readStream(fx.ws, "/etc/passwd"), "path_not_allowed");
    await expectCode(
      s.writeStream(fx.ws, "/tmp/planted.txt", new Response("x").body as ReadableStream<Uint8Array>, {
        maxBytes: 10,
        overwrite: true,
        createParents: false,
      }),
      "path_not_allowed",
    );
    expect(await expectCode(s.stat({ workspace_path: fx.ws, path: "a\0b" }), "path_not_allowed")).toContain(
      "NUL",
    );
  });

  test("the reserved temp-file prefix cannot be named", async () => {
    await expectCode(
      fx.service.write({
        workspace_path: fx.ws,
        path: ".oqto-partial-x",
        content: b64("x"),
        create_parents: false,
        overwrite: true,
      }),
      "path_not_allowed",
    );
  });
});

describe("workspace_path", () => {
  test("must be absolute and inside the workspace root", async () => {
    const s = fx.service;
    const read = (workspace_path: string) =>
      s.read({ workspace_path, path: "secret.txt", offset: 0, length: 100 });
    await expectCode(read(fx.outside), "path_not_allowed");
    await expectCode(read("/etc"), "path_not_allowed");
    await expectCode(read(`${fx.ws}/../../other-home`), "path_not_allowed");
    await expectCode(read("root/ws"), "path_not_allowed");
    // The root itself is not a workspace.
    await expectCode(read(fx.root), "path_not_allowed");
    await expectCode(read(join(fx.root, "missing")), "path_not_found");
  });

  test("a workspace that is a symlink to outside is refused", async () => {
    symlinkSync(fx.outside, join(fx.root, "linked-ws"));
    const msg = await expectCode(
      fx.service.read({
        workspace_path: join(fx.root, "linked-ws"),
        path: "secret.txt",
        offset: 0,
        length: 100,
      }),
      "path_not_allowed",
    );
    expect(msg).toContain("symbolic link");
    await expectCode(
      fx.service.watch(join(fx.root, "linked-ws"), () => {}),
      "path_not_allowed",
    );
  });
});

describe("symlinks", () => {
  beforeEach(() => {
    symlinkSync("/etc", join(fx.ws, "etc-link"));
    symlinkSync(fx.outside, join(fx.ws, "home-link"));
    symlinkSync(join(fx.outside, "secret.txt"), join(fx.ws, "secret-link"));
    symlinkSync("../../other-home/secret.txt", join(fx.ws, "relative-link"));
  });

  test("reading through a symlink to /etc, to another home, or at the final component is refused", async () => {
    const s = fx.service;
    const read = (path: string) => s.read({ workspace_path: fx.ws, path, offset: 0, length: 100 });
    for (const path of ["etc-link/passwd", "home-link/secret.txt", "home-link/sub/secret.txt"]) {
      expect(await expectCode(read(path), "path_not_allowed")).toContain("symbolic link");
    }
    await expectCode(read("secret-link"), "path_not_allowed");
    await expectCode(read("relative-link"), "path_not_allowed");
    await expectCode(s.readStream(fx.ws, "secret-link"), "path_not_allowed");
    await expectCode(s.readStream(fx.ws, "home-link/secret.txt"), "path_not_allowed");
    await expectCode(
      s.list({ workspace_path: fx.ws, path: "home-link", include_hidden: true }),
      "path_not_allowed",
    );
    await expectCode(
      s.tree({
        workspace_path: fx.ws,
        path: "etc-link",
        depth: 2,
        include_hidden: false,
        offset: 0,
        limit: 10,
      }),
      "path_not_allowed",
    );
    await expectCode(s.zipStream(fx.ws, "home-link"), "path_not_allowed");
    await expectCode(
      s.copy({ workspace_path: fx.ws, from: "secret-link", to: "copied.txt", overwrite: false }),
      "path_not_allowed",
    );
    await expectCode(
      s.copy({ workspace_path: fx.ws, from: "home-link/secret.txt", to: "copied.txt", overwrite: false }),
      "path_not_allowed",
    );
  });

  test("writing, creating or deleting through a symlinked directory is refused", async () => {
    const s = fx.service;
    const ws = fx.ws;
    await expectCode(
      s.write({
        workspace_path: ws,
        path: "home-link/planted.txt",
        content: b64("x"),
        create_parents: true,
        overwrite: true,
      }),
      "path_not_allowed",
    );
    await expectCode(
      s.write({
        workspace_path: ws,
        path: "home-link/new/planted.txt",
        content: b64("x"),
        create_parents: true,
        overwrite: true,
      }),
      "path_not_allowed",
    );
    await expectCode(
      s.writeStream(ws, "home-link/planted.txt", new Response("x").body as ReadableStream<Uint8Array>, {
        maxBytes: 10,
        overwrite: true,
        createParents: true,
      }),
      "path_not_allowed",
    );
    await expectCode(
      s.write({
        workspace_path: ws,
        path: "home-link/p.bin",
        content: b64("x"),
        create_parents: false,
        overwrite: true,
        upload_id: "u1",
        offset: 0,
      }),
      "path_not_allowed",
    );
    await expectCode(
      s.createDirectory({ workspace_path: ws, path: "home-link/newdir", create_parents: true }),
      "path_not_allowed",
    );
    await expectCode(
      s.delete({ workspace_path: ws, path: "home-link/secret.txt", recursive: false }),
      "path_not_allowed",
    );
    await expectCode(
      s.delete({ workspace_path: ws, path: "home-link/sub", recursive: true }),
      "path_not_allowed",
    );
    await expectCode(
      s.move({ workspace_path: ws, from: "home-link/secret.txt", to: "moved.txt", overwrite: false }),
      "path_not_allowed",
    );
    await expectCode(
      s.copy({ workspace_path: ws, from: "nothing", to: "home-link/copied.txt", overwrite: true }),
      "path_not_allowed",
    );
    // Writing onto a symlink entry is refused as well, rather than replacing or following it.
    await expectCode(
      s.write({
        workspace_path: ws,
        path: "secret-link",
        content: b64("x"),
        create_parents: false,
        overwrite: true,
      }),
      "path_not_allowed",
    );
  });

  test("entry operations act on the link itself: stat describes it, delete removes only the link", async () => {
    const s = fx.service;
    const { stat } = await s.stat({ workspace_path: fx.ws, path: "home-link" });
    expect(stat).toMatchObject({ exists: true, is_symlink: true, is_dir: false, is_file: false });
    await expectCode(s.stat({ workspace_path: fx.ws, path: "home-link/secret.txt" }), "path_not_allowed");
    await s.delete({ workspace_path: fx.ws, path: "home-link", recursive: true });
    await s.delete({ workspace_path: fx.ws, path: "secret-link", recursive: false });
    const names = (await s.list({ workspace_path: fx.ws, path: ".", include_hidden: true })).entries.map(
      (e) => e.name,
    );
    expect(names).toEqual(["etc-link", "relative-link"]);
  });

  test("listings show links as links and never descend into them", async () => {
    mkdirSync(join(fx.ws, "dir"));
    symlinkSync(fx.outside, join(fx.ws, "dir", "inner-link"));
    const tree = await fx.service.tree({
      workspace_path: fx.ws,
      path: ".",
      depth: 8,
      include_hidden: true,
      offset: 0,
      limit: 100,
    });
    const json = JSON.stringify(tree);
    expect(json).not.toContain("secret.txt");
    const home = tree.entries.find((e) => e.name === "home-link");
    expect(home).toMatchObject({ type: "symlink" });
    expect(home?.children).toBeUndefined();
    const dir = tree.entries.find((e) => e.name === "dir");
    expect(dir?.children).toEqual([expect.objectContaining({ name: "inner-link", type: "symlink" })]);
    const zip = await fx.service.zipStream(fx.ws, ".");
    const bytes = await collect(zip.stream);
    expect(Buffer.from(bytes).includes(Buffer.from(SECRET))).toBe(false);
  });
});

describe("special files and hard links", () => {
  test("a FIFO is refused for read, write, copy and stream without blocking", async () => {
    execFileSync("mkfifo", [join(fx.ws, "pipe")]);
    const s = fx.service;
    const msg = await expectCode(
      s.read({ workspace_path: fx.ws, path: "pipe", offset: 0, length: 10 }),
      "path_not_allowed",
    );
    expect(msg).toContain("special file");
    await expectCode(s.readStream(fx.ws, "pipe"), "path_not_allowed");
    await expectCode(
      s.write({
        workspace_path: fx.ws,
        path: "pipe",
        content: b64("x"),
        create_parents: false,
        overwrite: true,
      }),
      "path_not_allowed",
    );
    await expectCode(
      s.copy({ workspace_path: fx.ws, from: "pipe", to: "pipe2", overwrite: false }),
      "path_not_allowed",
    );
    // Listings leave special files out.
    expect((await s.list({ workspace_path: fx.ws, path: ".", include_hidden: true })).entries).toEqual([]);
  });

  test("a hard link to a file outside is refused for reading; writing replaces the link, not the file", async () => {
    linkSync(join(fx.outside, "secret.txt"), join(fx.ws, "hard.txt"));
    const s = fx.service;
    const msg = await expectCode(
      s.read({ workspace_path: fx.ws, path: "hard.txt", offset: 0, length: 100 }),
      "path_not_allowed",
    );
    expect(msg).toContain("hard link");
    await expectCode(s.readStream(fx.ws, "hard.txt"), "path_not_allowed");
    await expectCode(
      s.copy({ workspace_path: fx.ws, from: "hard.txt", to: "c.txt", overwrite: false }),
      "path_not_allowed",
    );
    await expectCode(s.zipStream(fx.ws, "."), "path_not_allowed");
    await s.write({
      workspace_path: fx.ws,
      path: "hard.txt",
      content: b64("mine"),
      create_parents: false,
      overwrite: true,
    });
    expect(readFileSync(join(fx.ws, "hard.txt"), "utf8")).toBe("mine");
    // afterEach checks the outside file still holds the secret.
  });

  test("a directory copy containing a hard-linked file fails and leaves nothing behind", async () => {
    mkdirSync(join(fx.ws, "src"));
    writeFileSync(join(fx.ws, "src", "a.txt"), "a");
    linkSync(join(fx.outside, "secret.txt"), join(fx.ws, "src", "z-hard.txt"));
    await expectCode(
      fx.service.copy({ workspace_path: fx.ws, from: "src", to: "dst", overwrite: false }),
      "path_not_allowed",
    );
    const raw = execFileSync("ls", ["-A", fx.ws], { encoding: "utf8" }).split("\n").filter(Boolean);
    expect(raw).toEqual(["src"]);
  });
});
