import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeJwt } from "jose";
import { parseConfig } from "../../src/config/load.ts";
import { createApp } from "../../src/server/app.ts";
import { createAuth } from "../../src/server/auth/index.ts";
import { resolveJwtSecret, TokenService } from "../../src/server/auth/jwt.ts";
import { addUser, BASE, bearer, createTestServer, login, type TestServer, testCatalog } from "./helpers.ts";

const dirs: string[] = [];
const servers: TestServer[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync("/tmp/oqj-");
  dirs.push(dir);
  return dir;
}

describe("JWT secret", () => {
  test("is generated at first start (32 random bytes, base64url, 0600) and reused afterwards", () => {
    const file = join(tempDir(), "data", "jwt-secret");
    const config = parseConfig("");
    const first = resolveJwtSecret(config, file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8").trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(resolveJwtSecret(config, file)).equals(Buffer.from(first))).toBe(true);
    const otherFile = join(tempDir(), "jwt-secret");
    expect(Buffer.from(resolveJwtSecret(config, otherFile)).equals(Buffer.from(first))).toBe(false);
  });

  test("a configured auth.jwt_secret wins and no file is written", () => {
    const file = join(tempDir(), "jwt-secret");
    const secret = "configured-secret-configured-secret-123";
    const resolved = resolveJwtSecret(parseConfig(`[auth]\njwt_secret = "${secret}"\n`), file);
    expect(new TextDecoder().decode(resolved)).toBe(secret);
    expect(() => statSync(file)).toThrow();
  });

  test("a truncated secret file is an error, and a loose file mode is tightened", () => {
    const dir = tempDir();
    const short = join(dir, "short");
    writeFileSync(short, "too-short\n");
    expect(() => resolveJwtSecret(parseConfig(""), short)).toThrow(/shorter than 32 bytes/);
    const loose = join(dir, "loose");
    writeFileSync(loose, `${"k".repeat(43)}\n`);
    chmodSync(loose, 0o644);
    resolveJwtSecret(parseConfig(""), loose);
    expect(statSync(loose).mode & 0o777).toBe(0o600);
  });

  test("tokens survive a restart with the generated secret, and die when the secret changes", async () => {
    const first = createTestServer("", undefined, { jwtSecret: null });
    servers.push(first);
    await addUser(first.store, "alice", "alice-password");
    const { token } = await login(first.app, "alice", "alice-password");
    // A second app on the same data dir stands in for a restarted server.
    const dataDir = join(first.dir, "data");
    const restarted = createApp({
      config: first.config,
      store: first.store,
      auth: createAuth({ config: first.config, store: first.store, dataDir }),
      version: "x",
      catalog: testCatalog(first.store, dataDir),
      onProvidersChanged: () => {},
      closeSocketsOf: () => {},
    });
    expect((await restarted.request(`${BASE}/api/me`, { headers: bearer(token) })).status).toBe(200);
    rmSync(join(dataDir, "jwt-secret"));
    const rotated = createApp({
      config: first.config,
      store: first.store,
      auth: createAuth({ config: first.config, store: first.store, dataDir }),
      version: "x",
      catalog: testCatalog(first.store, dataDir),
      onProvidersChanged: () => {},
      closeSocketsOf: () => {},
    });
    expect((await rotated.request(`${BASE}/api/me`, { headers: bearer(token) })).status).toBe(401);
  });
});

describe("token claims", () => {
  test("carry sub, role, tv, iss and exp = iat + token_ttl_s", async () => {
    const service = new TokenService(new TextEncoder().encode("s".repeat(40)), 3600);
    const token = await service.sign({ id: "user-1", role: "admin", tv: 7 });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ sub: "user-1", role: "admin", tv: 7, iss: "oqto" });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(3600);
    expect(await service.verify(token)).toMatchObject({ sub: "user-1", tv: 7 });
    expect(await new TokenService(new TextEncoder().encode("t".repeat(40)), 3600).verify(token)).toBeNull();
  });
});
