/** Reading pi session files (PI-RPC.md §7) without a running pi. */
import { readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { z } from "zod";
import { type PiAgentMessage, PiAgentMessage as PiAgentMessageSchema } from "./harness/pi/pi-schemas.ts";

const Entry = z.looseObject({
  type: z.string(),
  id: z.string(),
  parentId: z.string().nullish(),
  message: z.unknown().optional(),
});
type Entry = z.infer<typeof Entry>;

/** pi names session files `<timestamp>_<sessionId>.jsonl`. */
const FILE_NAME = /_([0-9a-fA-F-]{8,64})\.jsonl$/;

export function piSessionIdFromFile(file: string): string | undefined {
  return FILE_NAME.exec(basename(file))?.[1];
}

/** pi's per-workspace session dir name: `--<cwd without leading "/", "/" → "-">--`. */
export function piSessionDirName(cwd: string): string {
  return `--${cwd.replace(/^\/+/, "").replaceAll("/", "-")}--`;
}

/**
 * The dir one pi launch keeps its session files in, and the only one its sandbox binds: the
 * resumed file's own dir, else a new one for the Oqto session, under the configured flat dir or
 * under pi's per-cwd dir in the agent dir. (`s-` keeps an id of "." or ".." a plain name.)
 */
export function piLaunchSessionDir(
  flatDir: string | undefined,
  agentDir: string,
  cwd: string,
  launch: { sessionId: string; resumeFile?: string },
): string {
  if (launch.resumeFile) return dirname(launch.resumeFile);
  const name = `s-${launch.sessionId}`;
  return flatDir ? join(flatDir, name) : join(agentDir, "sessions", piSessionDirName(cwd), name);
}

/**
 * Messages on the session's active branch, in order: the path from the last entry (pi's leaf
 * after loading) back to the root. Entries pi compacted away are still listed, so positions stay
 * stable across compactions. A missing file yields `undefined`.
 */
export async function readPiSessionMessages(file: string): Promise<PiAgentMessage[] | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const byId = new Map<string, Entry>();
  let leaf: Entry | undefined;
  for (const line of text.split("\n")) {
    if (line.length === 0) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      // A line cut short by a crash mid-write: everything before it is still valid.
      continue;
    }
    const entry = Entry.safeParse(raw);
    if (!entry.success) continue;
    byId.set(entry.data.id, entry.data);
    leaf = entry.data;
  }
  const path: Entry[] = [];
  const visited = new Set<string>();
  for (let entry = leaf; entry && !visited.has(entry.id); ) {
    visited.add(entry.id);
    path.push(entry);
    entry = entry.parentId ? byId.get(entry.parentId) : undefined;
  }
  path.reverse();
  const messages: PiAgentMessage[] = [];
  for (const entry of path) {
    if (entry.type !== "message") continue;
    const message = PiAgentMessageSchema.safeParse(entry.message);
    if (message.success) messages.push(message.data);
  }
  return messages;
}

/** Finds the file of pi session `piSessionId` in a flat session dir or in pi's per-cwd dirs under `sessionsRoot`, or one level below. */
export async function findPiSessionFile(
  piSessionId: string,
  dirs: { flatDir?: string; sessionsRoot: string },
): Promise<string | undefined> {
  if (!/^[0-9a-fA-F-]{8,64}$/.test(piSessionId)) return undefined;
  // pi's own layout, and one dir per Oqto session below it (piLaunchSessionDir).
  const candidates: Array<{ cwd: string; pattern: string }> = [];
  for (const depth of ["", "*/"]) {
    if (dirs.flatDir) candidates.push({ cwd: dirs.flatDir, pattern: `${depth}*_${piSessionId}.jsonl` });
    candidates.push({ cwd: dirs.sessionsRoot, pattern: `*/${depth}*_${piSessionId}.jsonl` });
  }
  for (const { cwd, pattern } of candidates) {
    try {
      for await (const match of new Bun.Glob(pattern).scan({ cwd, onlyFiles: true })) return join(cwd, match);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
  return undefined;
}
