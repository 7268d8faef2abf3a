/** What the backup tests compare: what a server serves (sessions, messages) and what a directory holds. */
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

export interface ServedSession {
  session_id: string;
  messages: { id: string; role: string; text: string }[];
}

async function getJson(baseUrl: string, path: string, token: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${baseUrl}/api${path}`, { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

/** Every session of the signed-in user with its messages, in order, as the server serves them. */
export async function servedSessions(baseUrl: string, token: string): Promise<ServedSession[]> {
  const list = (await getJson(baseUrl, "/sessions?limit=100", token)).sessions as { session_id: string }[];
  const sessions: ServedSession[] = [];
  for (const { session_id } of [...list].sort((a, b) => a.session_id.localeCompare(b.session_id))) {
    const body = await getJson(baseUrl, `/sessions/${session_id}/messages`, token);
    const messages = (
      body.messages as { id: string; role: string; parts: { type: string; text?: string }[] }[]
    ).map((message) => ({
      id: message.id,
      role: message.role,
      text: message.parts.map((part) => part.text ?? part.type).join("|"),
    }));
    sessions.push({ session_id, messages });
  }
  return sessions;
}

/** Every path under `root` with its type, mode, owner and (for files) sha256: equal listings mean nothing changed. */
export function treeListing(root: string): string[] {
  const lines: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const stat = lstatSync(path);
      const what = stat.isDirectory()
        ? "dir"
        : stat.isFile()
          ? createHash("sha256").update(readFileSync(path)).digest("hex")
          : "other";
      lines.push(
        `${relative(root, path)} ${(stat.mode & 0o7777).toString(8)} ${stat.uid}:${stat.gid} ${what}`,
      );
      if (stat.isDirectory()) walk(path);
    }
  };
  walk(root);
  return lines;
}
