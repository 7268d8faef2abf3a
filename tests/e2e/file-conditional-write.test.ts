/**
 * Conditional file writes over REST through serve and the runner (PROTOCOL.md §4.2): a PUT with
 * `If-Match` writes only over the version it names, `If-None-Match: *` only creates, and a change
 * made on disk while an upload streams is not overwritten either. Each refusal is a 412 that
 * leaves the file as it was.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Stack, startStack } from "../helpers/stack.ts";
import { until } from "../helpers/wait.ts";

let stack: Stack;
let workspace: string;
let auth: Record<string, string>;

const fileUrl = (path: string) => `${stack.baseUrl}/api/workspaces/edits/files/${path}`;
const put = (path: string, body: BodyInit, headers: Record<string, string> = {}) =>
  fetch(fileUrl(path), { method: "PUT", headers: { ...auth, ...headers }, body });
const etagOf = async (path: string) => {
  const res = await fetch(fileUrl(path), { headers: auth });
  await res.arrayBuffer();
  expect(res.status).toBe(200);
  return res.headers.get("etag") ?? "";
};
const onDisk = (name: string) => readFileSync(join(workspace, name), "utf8");
/** Writes a workspace file as its agents would (owned by the runner's user). */
function place(name: string, text: string): void {
  writeFileSync(join(workspace, name), text);
  stack.own(join(workspace, name));
}

beforeAll(async () => {
  stack = await startStack();
  auth = { authorization: `Bearer ${stack.admin.token}` };
  const res = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ name: "edits" }),
  });
  workspace = ((await res.json()) as { path: string }).path;
}, 60_000);

afterAll(async () => {
  await stack?.stop();
}, 30_000);

describe("If-Match", () => {
  test("a save naming the version it read succeeds and answers the new version's tag", async () => {
    place("notes.txt", "first\n");
    const etag = await etagOf("notes.txt");
    const saved = await put("notes.txt", "second\n", { "if-match": etag });
    expect(saved.status).toBe(200);
    const body = (await saved.json()) as { path: string; size: number; etag: string };
    expect(body).toEqual({ path: "notes.txt", size: 7, etag: expect.any(String) });
    expect(saved.headers.get("etag")).toBe(body.etag);
    expect(body.etag).not.toBe(etag);
    expect(onDisk("notes.txt")).toBe("second\n");
    // The answered tag is what a download sends: the next save can name it.
    expect(await etagOf("notes.txt")).toBe(body.etag);
    const again = await put("notes.txt", "third\n", { "if-match": body.etag });
    expect(again.status).toBe(200);
    expect(onDisk("notes.txt")).toBe("third\n");
  });

  test("a save over a version changed on disk since is a 412 and writes nothing", async () => {
    place("report.md", "mine\n");
    const etag = await etagOf("report.md");
    place("report.md", "the agent's\n");
    const refused = await put("report.md", "overwritten\n", { "if-match": etag });
    expect(refused.status).toBe(412);
    expect(await refused.json()).toMatchObject({ code: "PRECONDITION_FAILED", error: expect.any(String) });
    expect(onDisk("report.md")).toBe("the agent's\n");
    expect(readdirSync(workspace).filter((name) => name.startsWith(".oqto-partial-"))).toEqual([]);
    // Without a precondition the user's explicit overwrite goes through.
    expect((await put("report.md", "overwritten\n")).status).toBe(200);
    expect(onDisk("report.md")).toBe("overwritten\n");
  });

  test("a save naming a version of a file deleted since is a 412 and creates nothing", async () => {
    place("gone.txt", "here\n");
    const etag = await etagOf("gone.txt");
    rmSync(join(workspace, "gone.txt"));
    const refused = await put("gone.txt", "back\n", { "if-match": etag });
    expect(refused.status).toBe(412);
    expect(readdirSync(workspace)).not.toContain("gone.txt");
  });

  test("a change on disk while the upload streams is caught at the commit", async () => {
    place("slow.txt", "before\n");
    const etag = await etagOf("slow.txt");
    let send: (chunk: Uint8Array) => void = () => {};
    let end: () => void = () => {};
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        send = (chunk) => controller.enqueue(chunk);
        end = () => controller.close();
      },
    });
    const pending = fetch(fileUrl("slow.txt"), {
      method: "PUT",
      headers: { ...auth, "if-match": etag },
      body,
      duplex: "half",
    } as RequestInit);
    send(new TextEncoder().encode("from the editor, "));
    // The runner made its temp file: the first check passed and the bytes are on their way.
    const partial = () => readdirSync(workspace).find((name) => name.startsWith(".oqto-partial-"));
    await until("the runner's temp file", partial);
    place("slow.txt", "the agent wrote this meanwhile\n");
    send(new TextEncoder().encode("too late\n"));
    end();
    const refused = await pending;
    expect(refused.status).toBe(412);
    expect(((await refused.json()) as { code: string }).code).toBe("PRECONDITION_FAILED");
    expect(onDisk("slow.txt")).toBe("the agent wrote this meanwhile\n");
    await until("the temp file removed", () => (partial() === undefined ? true : undefined));
  });

  test("If-Match must be one entity tag; If-None-Match on a PUT only '*'", async () => {
    place("strict.txt", "kept\n");
    const etag = await etagOf("strict.txt");
    for (const headers of [
      { "if-match": "*" },
      { "if-match": `${etag}, "other"` },
      { "if-match": "not-quoted" },
      { "if-none-match": etag },
      { "if-match": etag, "if-none-match": "*" },
    ] as Record<string, string>[]) {
      const res = await put("strict.txt", "changed\n", headers);
      expect({ headers, status: res.status }).toEqual({ headers, status: 400 });
      expect(((await res.json()) as { code: string }).code).toBe("BAD_REQUEST");
    }
    expect(onDisk("strict.txt")).toBe("kept\n");
  });
});

describe("If-None-Match: *", () => {
  test("creates a new file once; the second create is a 412 and keeps the first", async () => {
    const created = await put("fresh/new.txt?create_parents=1", "one\n", { "if-none-match": "*" });
    expect(created.status).toBe(201);
    expect(onDisk("fresh/new.txt")).toBe("one\n");
    const again = await put("fresh/new.txt", "two\n", { "if-none-match": "*" });
    expect(again.status).toBe(412);
    expect(((await again.json()) as { code: string }).code).toBe("PRECONDITION_FAILED");
    expect(onDisk("fresh/new.txt")).toBe("one\n");
  });
});
