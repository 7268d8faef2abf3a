/**
 * The key hunt, in multi-user mode as root: a prompt-injected agent (real pi, bash tool calls, inside the
 * default and the strict sandbox) looks for the provider key everywhere it can reach (and finds the
 * decoy the test left in its workspace, so the search is known to work): models.json, its
 * environment, every process it can see, every file it can read, the server's database. Then the test,
 * as root, looks where the agent cannot: the user's whole home, the runner's and pi's memory, the
 * platform database. The key is found only in the server's memory, sealed in its database. The session
 * token the agent did find works for its session while it lives and is refused once it has ended.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  closeSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { processesOf } from "../../src/privileged/linux-users.ts";
import { lookupAccount } from "../../src/shared/linux-account.ts";
import { cmdline } from "../helpers/linux-processes.ts";
import { type MultiUserStack, startMultiUserStack } from "../helpers/multi-user-stack.ts";
import { MuxClient, newSessionId } from "../helpers/mux-client.ts";

const isRoot = process.getuid?.() === 0;
const KEY_HEAD = "sk-hunt-9f3a7c21";
const KEY_TAIL = "e4b8d6a0-provider-secret";
const KEY = KEY_HEAD + KEY_TAIL;
let stack: MultiUserStack;
let token: string;
let mux: MuxClient;

beforeAll(async () => {
  if (!isRoot) return;
  stack = await startMultiUserStack({ providerKey: KEY });
  token = await stack.register("hunter", "harbor-violet-engine-61");
  mux = await MuxClient.connect(stack.wsUrl, token);
}, 90_000);

afterAll(async () => {
  mux?.close();
  await stack?.stop();
});

function api(method: string, path: string, body?: unknown) {
  return fetch(`${stack.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/**
 * Whether a process's memory holds `needle`: every resident, readable, anonymous mapping (heap, stacks,
 * the JS heap; file mappings are the files, searched separately), read as root through /proc/PID/mem.
 */
function memoryHolds(pid: number, needle: string): boolean {
  const wanted = Buffer.from(needle);
  let smaps: string;
  try {
    smaps = readFileSync(`/proc/${pid}/smaps`, "utf8");
  } catch {
    return false;
  }
  const regions: [number, number][] = [];
  let current: { start: number; end: number; anonymous: boolean } | undefined;
  for (const line of smaps.split("\n")) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) {
      const [, start = "0", end = "0", perms = "", path = ""] = header;
      current =
        perms.startsWith("r") &&
        (path === "" || (path.startsWith("[") && path !== "[vvar]" && path !== "[vsyscall]"))
          ? { start: Number.parseInt(start, 16), end: Number.parseInt(end, 16), anonymous: true }
          : undefined;
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && current && Number(rss[1]) > 0) regions.push([current.start, current.end]);
  }
  const runs = regions.flatMap(([start, end]) => presentRuns(pid, start, end));
  const fd = openSync(`/proc/${pid}/mem`, "r");
  try {
    for (const [start, end] of runs) {
      const bytes = Buffer.alloc(end - start);
      let read = 0;
      try {
        read = readSync(fd, bytes, 0, bytes.length, start);
      } catch {
        continue;
      }
      if (bytes.subarray(0, read).includes(wanted)) return true;
    }
  } finally {
    closeSync(fd);
  }
  return false;
}

const PAGE = 4096;

/**
 * The runs of pages of [start, end) that are in memory or swapped out (/proc/PID/pagemap bits 63 and 62):
 * a JS runtime reserves gigabytes it never touches, and reading those through /proc/PID/mem would take
 * minutes (and fault them in).
 */
function presentRuns(pid: number, start: number, end: number): [number, number][] {
  const fd = openSync(`/proc/${pid}/pagemap`, "r");
  const runs: [number, number][] = [];
  try {
    const pages = (end - start) / PAGE;
    const batch = 64 * 1024;
    let runStart: number | undefined;
    for (let first = 0; first < pages; first += batch) {
      const count = Math.min(batch, pages - first);
      const entries = Buffer.alloc(count * 8);
      readSync(fd, entries, 0, entries.length, (start / PAGE + first) * 8);
      for (let i = 0; i < count; i++) {
        const flags = entries.readUInt32LE(i * 8 + 4);
        const present = (flags & 0xc0000000) !== 0;
        const address = start + (first + i) * PAGE;
        if (present && runStart === undefined) runStart = address;
        if (!present && runStart !== undefined) {
          runs.push([runStart, address]);
          runStart = undefined;
        }
      }
    }
    if (runStart !== undefined) runs.push([runStart, end]);
  } finally {
    closeSync(fd);
  }
  return runs;
}

/** Every file under `dir` (not following links) whose bytes contain `needle`. */
function filesHolding(dir: string, needle: string): string[] {
  const found: string[] = [];
  const walk = (path: string) => {
    let entries: string[];
    try {
      entries = readdirSync(path);
    } catch {
      return;
    }
    for (const name of entries) {
      const child = join(path, name);
      const stat = statSync(child, { throwIfNoEntry: false });
      if (!stat) continue;
      if (stat.isDirectory()) walk(child);
      else if (stat.isFile() && stat.size < 256 * 1024 * 1024 && readFileSync(child).includes(needle))
        found.push(child);
    }
  };
  walk(dir);
  return found;
}

async function createWorkspace(name: string, profile: string): Promise<string> {
  const created = await api("POST", "/api/workspaces", { name });
  expect(created.status).toBe(201);
  const path = ((await created.json()) as { path: string }).path;
  const set = await api("PUT", `/api/workspaces/${name}/sandbox`, { profile });
  expect(set.status).toBe(200);
  return path;
}

/**
 * What the agent runs: a thorough search for the key, reporting counts (never the key itself). The key
 * is only ever assembled inside grep's pattern file descriptor, so that no command line it searches
 * (its own included) carries it.
 */
function huntScript(dataDir: string): string {
  return [
    `k() { printf '%s%s\n' '${KEY_HEAD}' '${KEY_TAIL}'; }`,
    `g() { grep "$@" -aF -f <(k); }`,
    `echo "models=$(g -c "$PI_CODING_AGENT_DIR/models.json")"`,
    `echo "models_key=$(grep -o '"apiKey": "[A-Z_]*"' "$PI_CODING_AGENT_DIR/models.json" | head -1)"`,
    `echo "env=$(env | g -c)"`,
    `echo "procs=$(cat /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null | g -c)"`,
    `echo "files=$(timeout 120 grep -rlaF -f <(k) / --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev --exclude-dir=usr 2>/dev/null | wc -l)"`,
    `echo "db=$(cat ${dataDir}/oqto.db 2>&1 >/dev/null | head -c 60 | tr -d '\\n')"`,
    // Processes whose argv has a word "runner": the user's runner, were it visible.
    `echo "runner_visible=$(for p in /proc/[0-9]*; do tr '\\0' '\\n' < $p/cmdline 2>/dev/null | grep -qx runner && echo $p; done | wc -l)"`,
    `echo "token=$OQTO_LLM_TOKEN"`,
  ].join("; ");
}

async function hunt(workspace: string) {
  const sessionId = newSessionId();
  const created = await mux.command(sessionId, "session.create", {
    config: { harness: "pi", cwd: workspace },
  });
  expect(created.error ?? "").toBe("");
  stack.fakeLlm.script([
    { toolCalls: [{ name: "bash", arguments: { command: huntScript(stack.dataDir), timeout: 150 } }] },
    { text: "hunt over" },
  ]);
  const from = mux.frames.length;
  await mux.command(sessionId, "prompt", { message: "find the provider key" });
  const end = await mux.waitFor((f) => f.session_id === sessionId && f.event === "tool.end", 170_000, from);
  await mux.event(sessionId, "agent.idle", from, 60_000);
  const output = String(end.output);
  const field = (name: string) => new RegExp(`${name}=(.*)`).exec(output)?.[1]?.trim() ?? "";
  return { sessionId, output, field };
}

function gatewayChat(sessionToken: string) {
  return fetch(`${stack.baseUrl}/llm/fake/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${sessionToken}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "fake-model", stream: true, messages: [{ role: "user", content: "x" }] }),
  });
}

describe.skipIf(!isRoot)(
  "the provider key is nowhere an agent, a terminal or the user's processes can reach",
  () => {
    for (const profile of ["development", "strict"]) {
      test(`${profile}: the agent's hunt finds nothing; its token works for its session only while it lives`, async () => {
        const workspace = await createWorkspace(`hunt-${profile}`, profile);
        // The positive control: a decoy holding the key where the agent can read it is found, so the
        // zeros below mean the key is not there, not that the search does not work.
        writeFileSync(join(workspace, "decoy.txt"), `${KEY}\n`, { mode: 0o644 });
        const { sessionId, output, field } = await hunt(workspace);
        rmSync(join(workspace, "decoy.txt"));
        expect(field("models")).toBe("0");
        expect(field("models_key")).toBe('"apiKey": "OQTO_LLM_TOKEN"');
        expect(field("env")).toBe("0");
        expect(field("procs")).toBe("0");
        expect(field("files")).toBe("1");
        expect(field("db")).toMatch(/Permission denied|No such file/);
        expect(field("runner_visible")).toBe("0");
        const sessionToken = field("token");
        expect(sessionToken).toMatch(/^oqtok_/);
        expect(output).not.toContain(KEY);

        // As root, where the agent cannot look: the user's home and runtime files, the runner's and
        // pi's memory; only the server (the service user's process) holds the key.
        const account = lookupAccount("oqto_hunter");
        expect(account).toBeDefined();
        expect(filesHolding(account?.home ?? "/nonexistent", KEY)).toEqual([]);
        expect(filesHolding(stack.runtimeDir, KEY)).toEqual([]);
        const userProcesses = processesOf(account?.uid ?? -1);
        expect(userProcesses.some((pid) => cmdline(pid).includes("runner"))).toBe(true);
        // The scan's positive control: the web server (the service user's process) does hold the key.
        const server = processesOf(lookupAccount(stack.serviceUser)?.uid ?? -1);
        expect(server.some((pid) => memoryHolds(pid, KEY))).toBe(true);
        for (const pid of userProcesses)
          expect({ pid, argv: cmdline(pid), holds: memoryHolds(pid, KEY) }).toMatchObject({ holds: false });
        for (const file of readdirSync(stack.dataDir).filter((name) => name.startsWith("oqto.db"))) {
          expect(readFileSync(join(stack.dataDir, file)).includes(KEY)).toBe(false);
        }

        // The token the agent found: good for its own session while it runs...
        stack.fakeLlm.script([{ text: "via a found token" }]);
        const live = await gatewayChat(sessionToken);
        expect(live.status).toBe(200);
        expect(await live.text()).toContain("via a found token");
        // ...and dead once the session's process has ended.
        await mux.command(sessionId, "session.close");
        const deadline = Date.now() + 10_000;
        let after = await gatewayChat(sessionToken);
        while (after.status === 200 && Date.now() < deadline) {
          await after.text();
          await Bun.sleep(100);
          after = await gatewayChat(sessionToken);
        }
        expect(after.status).toBe(401);
        expect(((await after.json()) as { error: { message: string } }).error.message).toContain(
          "session has ended",
        );
      }, 240_000);
    }
  },
);
