/**
 * install.sh piped from a URL (no checkout beside it) downloads the release binary and checks its
 * sha256: served here by a local HTTP server from the prebuilt dist/oqto, no internet involved.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { removeLinuxUser } from "../helpers/linux-processes.ts";
import { prebuiltBinary, runInstaller, scratchRoot, uniqueUserName } from "./installer-harness.ts";

const root = scratchRoot("release");
const runAs = uniqueUserName();
let server: ReturnType<typeof Bun.serve>;
let binary: Buffer;
const requests: string[] = [];

beforeAll(() => {
  binary = readFileSync(prebuiltBinary());
  const sha256 = new Bun.CryptoHasher("sha256").update(binary).digest("hex");
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (request) => {
      const path = new URL(request.url).pathname;
      requests.push(path);
      if (path === "/v1/oqto-linux-x64") return new Response(Bun.file(prebuiltBinary()));
      if (path === "/v1/oqto-linux-x64.sha256") return new Response(`${sha256}  oqto-linux-x64\n`);
      // A release whose published checksum does not match its binary.
      if (path === "/tampered/oqto-linux-x64") return new Response(new Uint8Array(binary.subarray(0, -1)));
      if (path === "/tampered/oqto-linux-x64.sha256") return new Response(`${sha256}  oqto-linux-x64\n`);
      return new Response("not found", { status: 404 });
    },
  });
});

afterAll(async () => {
  server?.stop(true);
  await removeLinuxUser(runAs);
  rmSync(root, { recursive: true, force: true });
});

const piped = (name: string, release: string) =>
  runInstaller(
    root,
    [
      "--single-user",
      "--prefix",
      join(root, name),
      "--data-dir",
      join(root, `${name}-data`),
      "--run-as",
      runAs,
    ],
    {
      piped: true,
      env: { OQTO_BINARY: "", OQTO_RELEASE_URL: `http://127.0.0.1:${server.port}/${release}/oqto-linux-x64` },
    },
  );

describe.skipIf(process.arch !== "x64")("install.sh piped from a URL", () => {
  test("downloads the release binary, checks its sha256 and installs it", async () => {
    const result = await piped("good", "v1");
    expect(result.stderr).not.toContain("failed while");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("downloading http://127.0.0.1:");
    expect(requests).toContain("/v1/oqto-linux-x64.sha256");
    expect(readFileSync(join(root, "good/bin/oqto")).equals(binary)).toBe(true);
    // It built nothing: there is no checkout beside a piped script.
    expect(result.stdout).not.toContain("building");
  }, 30_000);

  test("a binary whose sha256 does not match is refused and not installed", async () => {
    const result = await piped("bad", "tampered");
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(
      /the download's sha256 is [0-9a-f]{64}, expected [0-9a-f]{64}: not installing it/,
    );
    expect(existsSync(join(root, "bad/bin/oqto"))).toBe(false);
  }, 30_000);
});
