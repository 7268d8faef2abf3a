import { afterEach, beforeEach, expect, test } from "bun:test";
import { chmodSync, mkdirSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createZipStream, type ZipEntry } from "../../src/runner/files/zip-writer.ts";
import { runProcess } from "../helpers/run-process.ts";
import { collect, expectCode, type FilesFixture, makeFixture, randomBytes, sha256 } from "./helpers.ts";

let fx: FilesFixture;
beforeEach(() => {
  fx = makeFixture();
});
afterEach(async () => {
  await fx.cleanup();
});

/** Reads a zip with Python's zipfile: entry names, CRC check, and sha256 and mode of each file. */
const INSPECT = `
import hashlib, json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    print(json.dumps({
        "names": z.namelist(),
        "bad": z.testzip(),
        "methods": {i.filename: i.compress_type for i in z.infolist()},
        "modes": {i.filename: (i.external_attr >> 16) & 0o7777 for i in z.infolist()},
        "sha256": {i.filename: hashlib.sha256(z.read(i)).hexdigest() for i in z.infolist() if not i.is_dir()},
    }))
`;

interface Inspection {
  names: string[];
  bad: string | null;
  methods: Record<string, number>;
  modes: Record<string, number>;
  sha256: Record<string, string>;
}

async function inspect(bytes: Uint8Array): Promise<Inspection> {
  const path = join(fx.base, "out.zip");
  writeFileSync(path, bytes);
  const python = await runProcess(["python3", "-c", INSPECT, path]);
  expect(python.stderr).toBe("");
  const unzip = await runProcess(["unzip", "-t", path]);
  expect(unzip.stdout).toContain("No errors detected");
  return JSON.parse(python.stdout) as Inspection;
}

test("a folder zip lists the right entries and extracts identical bytes", async () => {
  const proj = join(fx.ws, "proj");
  const files: Record<string, Uint8Array> = {
    "README.md": new TextEncoder().encode("# project\n".repeat(500)),
    "src/main.ts": new TextEncoder().encode("console.log('hi');\n"),
    "src/deep/data.bin": randomBytes(1024 * 1024 + 3, 9),
    "assets/logo.png": randomBytes(50_000, 4),
    ".hidden": new TextEncoder().encode("dot"),
    "ünïcode name.txt": new TextEncoder().encode("utf-8 names"),
    "empty.txt": new Uint8Array(0),
  };
  for (const [rel, bytes] of Object.entries(files)) {
    mkdirSync(join(proj, rel, ".."), { recursive: true });
    writeFileSync(join(proj, rel), bytes);
  }
  mkdirSync(join(proj, "empty-dir"));
  chmodSync(join(proj, "src", "main.ts"), 0o750);
  symlinkSync(fx.outside, join(proj, "outside-link"));
  symlinkSync("README.md", join(proj, "readme-link"));

  const zip = await fx.service.zipStream(fx.ws, "proj");
  expect(zip.fileName).toBe("proj.zip");
  const result = await inspect(await collect(zip.stream));
  expect(result.bad).toBeNull();
  expect([...result.names].sort()).toEqual(
    [
      "proj/",
      "proj/.hidden",
      "proj/README.md",
      "proj/assets/",
      "proj/assets/logo.png",
      "proj/empty-dir/",
      "proj/empty.txt",
      "proj/src/",
      "proj/src/deep/",
      "proj/src/deep/data.bin",
      "proj/src/main.ts",
      "proj/ünïcode name.txt",
    ].sort(),
  );
  for (const [rel, bytes] of Object.entries(files)) expect(result.sha256[`proj/${rel}`]).toBe(sha256(bytes));
  expect(result.methods["proj/README.md"]).toBe(8);
  expect(result.methods["proj/assets/logo.png"]).toBe(0);
  expect(result.modes["proj/src/main.ts"]).toBe(0o750);
  expect(zip.entries).toBe(result.names.length);
});

test("the workspace itself zips under its own name; a file or missing folder is refused", async () => {
  writeFileSync(join(fx.ws, "a.txt"), "a");
  const zip = await fx.service.zipStream(fx.ws, ".");
  expect(zip.fileName).toBe("ws.zip");
  const result = await inspect(await collect(zip.stream));
  expect(result.names).toEqual(["ws/", "ws/a.txt"]);
  await expectCode(fx.service.zipStream(fx.ws, "a.txt"), "not_a_directory");
  await expectCode(fx.service.zipStream(fx.ws, "missing"), "path_not_found");
});

test("a folder over 4 GiB is refused before any byte is sent", async () => {
  mkdirSync(join(fx.ws, "big"));
  writeFileSync(join(fx.ws, "big", "sparse.bin"), "");
  truncateSync(join(fx.ws, "big", "sparse.bin"), 5 * 1024 ** 3); // sparse: no disk used
  const msg = await expectCode(fx.service.zipStream(fx.ws, "big"), "too_large");
  expect(msg).toContain("4 GiB");
});

test("the writer refuses more entries than a ZIP without ZIP64 can hold", async () => {
  function* entries(): Generator<ZipEntry> {
    for (let i = 0; i <= 0xffff; i++)
      yield { name: `d${i}`, directory: true, modifiedAt: 0, mode: 0o755, deflate: false };
  }
  const error = await collect(createZipStream(entries())).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect((error as { code?: string }).code).toBe("too_large");
});
