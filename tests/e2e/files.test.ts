/**
 * Workspace files through the whole product: the mux files channel and the REST byte routes,
 * served by the user's runner.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MuxClient, newSessionId } from "../helpers/mux-client.ts";
import { runProcess } from "../helpers/run-process.ts";
import { type Stack, startStack } from "../helpers/stack.ts";

let stack: Stack;
let client: MuxClient;
let workspace: string;
let auth: Record<string, string>;
let nextId = 1;

async function files(type: string, body: Record<string, unknown> = {}) {
  const id = `f${nextId++}`;
  const reply = client.waitFor((f) => f.channel === "files" && f.id === id, 30_000, client.frames.length);
  client.send(JSON.stringify({ channel: "files", id, type, workspace_path: workspace, ...body }));
  return reply;
}

const fileUrl = (path: string, query = "") => `${stack.baseUrl}/api/workspaces/main/files/${path}${query}`;
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

beforeAll(async () => {
  stack = await startStack({ serverConfig: "max_upload_mb = 300" });
  auth = { authorization: `Bearer ${stack.admin.token}` };
  const res = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ name: "main" }),
  });
  workspace = ((await res.json()) as { path: string }).path;
  client = await MuxClient.connect(stack.wsUrl, stack.admin.token);
}, 60_000);

afterAll(async () => {
  client?.close();
  await stack?.stop();
});

describe("mux files channel", () => {
  test("create, write, list, read, rename, delete", async () => {
    expect((await files("create_directory", { path: "docs" })).type).toBe("create_directory_result");
    const content = Buffer.from("# Notes\n").toString("base64");
    const write = await files("write", { path: "docs/notes.md", content });
    expect(write).toMatchObject({ type: "write_result", path: "docs/notes.md", size: 8, success: true });
    const tree = await files("tree", { path: ".", depth: 2 });
    expect(JSON.stringify(tree.entries)).toContain("notes.md");
    const read = await files("read", { path: "docs/notes.md" });
    expect(Buffer.from(String(read.content), "base64").toString()).toBe("# Notes\n");
    expect((await files("rename", { from: "docs/notes.md", to: "docs/readme.md" })).type).toBe(
      "rename_result",
    );
    expect(existsSync(join(workspace, "docs/readme.md"))).toBe(true);
    expect((await files("delete", { path: "docs", recursive: true })).type).toBe("delete_result");
    expect(existsSync(join(workspace, "docs"))).toBe(false);
  });

  test("escapes are refused with path_not_allowed", async () => {
    symlinkSync("/etc", join(workspace, "etc-link"));
    for (const path of ["../../etc/passwd", "/etc/passwd", "etc-link/passwd"]) {
      const reply = await files("read", { path });
      expect(reply.type).toBe("error");
      expect(reply.code).toBe("path_not_allowed");
    }
    const outside = await files("tree", { workspace_path: "/etc" });
    expect(outside.code).toBe("path_not_allowed");
    const bad = await files("read", {});
    expect(bad.code).toBe("invalid_request");
  });

  test("a watch reports the file the agent writes through pi", async () => {
    const watch = await files("watch");
    expect(watch.type).toBe("watch_result");
    const sessionId = newSessionId();
    await client.command(sessionId, "session.create", { config: { harness: "pi", cwd: workspace } });
    stack.fakeLlm.script([
      { toolCalls: [{ name: "write", arguments: { path: "from-agent.txt", content: "hi\n" } }] },
      { text: "written" },
    ]);
    const from = client.frames.length;
    await client.command(sessionId, "prompt", { message: "write a file" });
    const change = await client.waitFor(
      (f) => f.channel === "files" && f.type === "file_changed" && f.path === "from-agent.txt",
      30_000,
      from,
    );
    expect(change.workspace_path).toBe(workspace);
    expect(change.entry_type).toBe("file");
    await client.event(sessionId, "agent.idle", from, 60_000);
    expect((await files("unwatch")).type).toBe("unwatch_result");
  });
});

describe("REST file bytes", () => {
  test("a binary upload downloads byte-identical, with Range support", async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 123);
    const put = await fetch(fileUrl("bin/blob.dat", "?create_parents=1"), {
      method: "PUT",
      headers: auth,
      body: bytes,
    });
    expect(put.status).toBe(201);
    expect(await put.json()).toEqual({
      path: "bin/blob.dat",
      size: bytes.length,
      etag: put.headers.get("etag"),
    });
    const again = await fetch(fileUrl("bin/blob.dat"), { method: "PUT", headers: auth, body: bytes });
    expect(again.status).toBe(200);
    const refused = await fetch(fileUrl("bin/blob.dat", "?overwrite=0"), {
      method: "PUT",
      headers: auth,
      body: "x",
    });
    expect(refused.status).toBe(409);

    const get = await fetch(fileUrl("bin/blob.dat", "?download=1"), { headers: auth });
    expect(get.status).toBe(200);
    // Bun.serve replaces a streamed body's Content-Length with chunked framing (oven-sh/bun#10507).
    expect(get.headers.get("content-disposition")).toContain("blob.dat");
    expect(sha256(new Uint8Array(await get.arrayBuffer()))).toBe(sha256(bytes));

    const range = await fetch(fileUrl("bin/blob.dat"), { headers: { ...auth, range: "bytes=100-199" } });
    expect(range.status).toBe(206);
    expect(range.headers.get("content-range")).toBe(`bytes 100-199/${bytes.length}`);
    expect(Buffer.from(await range.arrayBuffer()).equals(bytes.subarray(100, 200))).toBe(true);
    const suffix = await fetch(fileUrl("bin/blob.dat"), { headers: { ...auth, range: "bytes=-10" } });
    expect(Buffer.from(await suffix.arrayBuffer()).equals(bytes.subarray(bytes.length - 10))).toBe(true);
    const beyond = await fetch(fileUrl("bin/blob.dat"), {
      headers: { ...auth, range: `bytes=${bytes.length + 5}-` },
    });
    expect(beyond.status).toBe(416);
  });

  test("a 200 MB upload streams through serve and runner without holding it in memory", async () => {
    const rss = (pid: number) =>
      Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) * 1024;
    const servePid = stack.serve.pid;
    const before = rss(servePid);
    const chunk = randomBytes(1024 * 1024);
    const upload = (path: string, hash: ReturnType<typeof createHash>) => {
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent === 200) {
            controller.close();
            return;
          }
          sent += 1;
          hash.update(chunk);
          controller.enqueue(chunk);
        },
      });
      return fetch(fileUrl(path, "?create_parents=1"), { method: "PUT", headers: auth, body });
    };
    // Two uploads of 200 MB: a server that held even one of them would grow by its bytes and their
    // base64 (over 460 MB); a streaming one only by its garbage, which the collector reclaims at
    // its own pace (up to 293 MB was seen in a pristine Debian, so the bound is 400 MB).
    const hash = createHash("sha256");
    const put = await upload("big/upload.bin", hash);
    expect(put.status).toBe(201);
    expect(((await put.json()) as { size: number }).size).toBe(200 * 1024 * 1024);
    expect((await upload("big/second.bin", createHash("sha256"))).status).toBe(201);
    expect(rss(servePid) - before).toBeLessThan(400 * 1024 * 1024);
    const onDisk = createHash("sha256");
    for await (const piece of Bun.file(join(workspace, "big/upload.bin")).stream()) onDisk.update(piece);
    expect(onDisk.digest("hex")).toBe(hash.digest("hex"));
    let left = 301;
    const oversized = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (left-- === 0) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const tooBig = await fetch(fileUrl("big/too-big.bin"), { method: "PUT", headers: auth, body: oversized });
    expect(tooBig.status).toBe(413);
    expect(((await tooBig.json()) as { code: string }).code).toBe("PAYLOAD_TOO_LARGE");
    expect(existsSync(join(workspace, "big/too-big.bin"))).toBe(false);
  }, 120_000);

  test("a folder downloads as a zip with the right entries", async () => {
    writeFileSync(join(workspace, "zipme-a.txt"), "alpha\n");
    await fetch(fileUrl("zipdir/one.txt", "?create_parents=1"), {
      method: "PUT",
      headers: auth,
      body: "one\n",
    });
    await fetch(fileUrl("zipdir/sub/two.txt", "?create_parents=1"), {
      method: "PUT",
      headers: auth,
      body: "two\n",
    });
    const res = await fetch(fileUrl("zipdir", "?zip=1"), { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/zip");
    const zipPath = join(stack.home, "out.zip");
    writeFileSync(zipPath, new Uint8Array(await res.arrayBuffer()));
    const listing = await runProcess([
      "python3",
      "-c",
      "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print('\\n'.join(sorted(n for n in z.namelist() if not n.endswith('/')))); print(z.read('zipdir/sub/two.txt').decode(), end='')",
      zipPath,
    ]);
    expect(listing.code).toBe(0);
    expect(listing.stdout).toBe("zipdir/one.txt\nzipdir/sub/two.txt\ntwo\n");
    expect(readFileSync(join(workspace, "zipme-a.txt"), "utf8")).toBe("alpha\n");
  });

  test("bad requests get clear errors and escapes are refused", async () => {
    expect((await fetch(fileUrl("missing.txt"), { headers: auth })).status).toBe(404);
    expect((await fetch(fileUrl("..%2F..%2Fetc%2Fpasswd"), { headers: auth })).status).toBe(403);
    expect((await fetch(fileUrl("etc-link/passwd"), { headers: auth })).status).toBe(403);
    expect((await fetch(`${stack.baseUrl}/api/workspaces/..%2Fx/files/a`, { headers: auth })).status).toBe(
      400,
    );
    expect((await fetch(fileUrl("x.txt"))).status).toBe(401);
  });

  test("malformed percent-encoding in a path is a 400 with {error, code}, and serve stays up", async () => {
    for (const path of ["%", "a%zz", "%ff%fe", "%E0%A4%A"]) {
      const res = await fetch(fileUrl(path), { headers: auth });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: string; code: string };
      expect(body.code).toBe("BAD_REQUEST");
      expect(body.error).toContain("malformed percent-encoding");
    }
    const workspaceName = await fetch(`${stack.baseUrl}/api/workspaces/%ff/files/a`, { headers: auth });
    expect(workspaceName.status).toBe(400);
    expect((await fetch(`${stack.baseUrl}/api/health`)).status).toBe(200);
  });

  test("agent-written bytes are inert in Oqto's origin: nosniff, a CSP sandbox, active types as attachments", async () => {
    const script = "<script>fetch('/api/me')</script>";
    mkdirSync(join(workspace, "inert"));
    writeFileSync(join(workspace, "inert/notes.html"), `<html><body>${script}</body></html>`);
    writeFileSync(
      join(workspace, "inert/logo.svg"),
      `<svg xmlns="http://www.w3.org/2000/svg">${script}</svg>`,
    );
    writeFileSync(join(workspace, "inert/pixel.png"), randomBytes(64));
    stack.own(join(workspace, "inert"));
    const headersOf = async (path: string, query = "") => {
      const res = await fetch(fileUrl(`inert/${path}`, query), { headers: auth });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      return res.headers;
    };
    for (const [path, query, disposition] of [
      ["notes.html", "", "attachment"],
      ["logo.svg", "", "attachment"],
      ["notes.html", "?inline=1", "inline"],
      ["pixel.png", "", "inline"],
      ["pixel.png", "?download=1", "attachment"],
      ["", "?zip=1", "attachment"],
    ] as const) {
      const headers = await headersOf(path, query);
      expect(`${path}${query} ${headers.get("x-content-type-options")}`).toBe(`${path}${query} nosniff`);
      expect(headers.get("content-security-policy")).toBe("sandbox; default-src 'none'");
      expect(headers.get("x-frame-options")).toBe("SAMEORIGIN");
      expect(headers.get("referrer-policy")).toBe("no-referrer");
      expect(headers.get("content-disposition")?.split(";")[0]).toBe(disposition);
    }
    expect((await headersOf("notes.html", "?inline=1")).get("content-type")).toStartWith("text/html");
  });

  test("aborted uploads leave no partial file and never starve another user's upload", async () => {
    const bob = { authorization: `Bearer ${await stack.addUser("bob", "velvet-otter-harbor")}` };
    /** An upload that sends 3 MiB and then hangs until `abort` is called. */
    const hangingUpload = (name: string) => {
      const controller = new AbortController();
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(stream) {
          if (sent >= 3) return new Promise<void>(() => {});
          sent += 1;
          stream.enqueue(randomBytes(1024 * 1024));
        },
      });
      const response = fetch(fileUrl(`aborted/${name}`, "?create_parents=1"), {
        method: "PUT",
        headers: auth,
        body,
        signal: controller.signal,
        duplex: "half",
      } as RequestInit).catch((error: Error) => error);
      return { response, abort: () => controller.abort() };
    };
    const partials = () =>
      [...new Bun.Glob("**/.oqto-partial-*").scanSync({ cwd: workspace, dot: true })].filter((p) =>
        p.startsWith("aborted/"),
      );
    const waitFor = async (check: () => boolean, what: string) => {
      for (const deadline = Date.now() + 10_000; Date.now() < deadline; await Bun.sleep(50))
        if (check()) return;
      throw new Error(`never: ${what}`);
    };

    // One user's uploads in flight are bounded; another user's still go through.
    const held = Array.from({ length: 8 }, (_, i) => hangingUpload(`held-${i}.bin`));
    await waitFor(() => partials().length === 8, "8 partial files while the uploads hang");
    const ninth = await fetch(fileUrl("aborted/ninth.txt"), { method: "PUT", headers: auth, body: "x" });
    expect(ninth.status).toBe(429);
    expect(((await ninth.json()) as { error: string }).error).toContain(
      "8 uploads of yours are already in progress",
    );
    const bobs = await fetch(fileUrl("aborted/bob.txt"), { method: "PUT", headers: bob, body: "from bob" });
    expect(bobs.status).toBe(201);
    for (const upload of held) upload.abort();
    await waitFor(() => partials().length === 0, "no partial file after the aborts");

    // 40 more aborted uploads: each one's partial file goes at once, and uploads keep working for both.
    for (let round = 0; round < 5; round += 1) {
      const batch = Array.from({ length: 8 }, (_, i) => hangingUpload(`r${round}-${i}.bin`));
      await waitFor(() => partials().length === 8, `round ${round}: 8 uploads started`);
      for (const upload of batch) upload.abort();
      await Promise.all(batch.map((upload) => upload.response));
      await waitFor(() => partials().length === 0, `round ${round}: no partial file left`);
    }
    for (const headers of [auth, bob]) {
      const ok = await fetch(fileUrl("aborted/after.txt"), { method: "PUT", headers, body: "after" });
      expect(ok.status).toBeLessThan(300);
    }
    expect(readFileSync(join(workspace, "aborted/bob.txt"), "utf8")).toBe("from bob");
  }, 120_000);
});
