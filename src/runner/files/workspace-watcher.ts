import { type FSWatcher, watch } from "node:fs";
import type { FileChangeType } from "../../protocol/files.ts";
import { ProtocolError } from "../../protocol/index.ts";
import { readEntries } from "./dir-entries.ts";
import { isPartialName, type OpenDir, type PathGuard } from "./path-guard.ts";

export interface WatchLimits {
  /** Raw events are collected this long before they are classified and reported. */
  debounceMs: number;
  /** Distinct paths kept per debounce window; changes beyond are dropped. */
  maxPendingPaths: number;
  /** Entries whose kind is remembered (to tell file_deleted from dir_deleted). */
  indexLimit: number;
}

export interface FileChange {
  event_type: FileChangeType;
  path: string;
  entry_type: "file" | "directory";
}

type Kind = "file" | "directory";

/**
 * Watches one workspace recursively (fs.watch) and reports debounced changes with paths
 * relative to the workspace. A raw event only names a path; after the debounce window the
 * path is looked up (without following links) and compared with what is remembered about it:
 * new → *_created, gone → *_deleted, a remembered file still there → file_modified. Kinds are
 * remembered from a bounded index built at start and kept up to date by the events.
 */
export class WorkspaceWatcher {
  private watcher: FSWatcher | undefined;
  private readonly known = new Map<string, Kind>();
  /** False once the index hit its limit: a vanished unknown path may then have existed. */
  private indexComplete = true;
  private pending = new Set<string>();
  private timer: Timer | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly guard: PathGuard,
    private readonly workspacePath: string,
    private readonly limits: WatchLimits,
    private readonly emit: (change: FileChange) => void,
  ) {}

  async start(): Promise<void> {
    await using ws = await this.guard.openWorkspace(this.workspacePath);
    const realPath = await this.guard.workspaceRealPath(this.workspacePath);
    // Watching starts before the index is built, so nothing created in between goes unseen.
    try {
      this.watcher = watch(realPath, { recursive: true }, (_event, filename) => this.onRawEvent(filename));
    } catch (error) {
      throw new ProtocolError(
        "io_error",
        `cannot watch '${this.workspacePath}': ${(error as Error).message}`,
      );
    }
    this.watcher.on("error", () => this.close());
    await this.indexTree(ws, { remaining: this.limits.indexLimit });
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.watcher?.close();
  }

  private onRawEvent(filename: string | Buffer | null): void {
    if (this.closed || filename === null) return;
    const rel = filename.toString();
    if (rel === "" || rel.split("/").some(isPartialName)) return;
    if (!this.pending.has(rel) && this.pending.size >= this.limits.maxPendingPaths) return;
    this.pending.add(rel);
    this.timer ??= setTimeout(() => this.flush(), this.limits.debounceMs);
  }

  private flush(): void {
    this.timer = undefined;
    const paths = [...this.pending].sort((a, b) => depth(a) - depth(b));
    this.pending = new Set();
    this.flushing = this.flushing.then(() => this.classify(paths)).catch(() => undefined);
  }

  private async classify(paths: string[]): Promise<void> {
    if (this.closed) return;
    let ws: OpenDir;
    try {
      ws = await this.guard.openWorkspace(this.workspacePath);
    } catch {
      return; // the workspace itself is gone
    }
    await using opened = ws;
    const reported = new Set<string>();
    for (const rel of paths) {
      if (this.closed) return;
      if (reported.has(rel)) continue;
      const kind = await this.kindOf(opened, rel);
      // Reached through a symlink: not part of the workspace, so not even its absence is told.
      if (kind === "unreachable") continue;
      const known = this.known.get(rel);
      if (kind === "missing") {
        if (known) {
          this.report(known === "directory" ? "dir_deleted" : "file_deleted", rel, known);
          this.forget(rel);
        } else if (!this.indexComplete) {
          this.report("file_deleted", rel, "file");
        }
      } else if (known !== kind) {
        if (known) this.report(known === "directory" ? "dir_deleted" : "file_deleted", rel, known);
        this.report(kind === "directory" ? "dir_created" : "file_created", rel, kind);
        this.remember(rel, kind);
        // Entries made in a new directory before its watch was added raise no events of their own.
        if (kind === "directory") await this.reportNewEntries(opened, rel, reported);
      } else if (kind === "file") {
        this.report("file_modified", rel, kind);
      }
      reported.add(rel);
    }
  }

  private async reportNewEntries(ws: OpenDir, rel: string, reported: Set<string>): Promise<void> {
    const budget = { remaining: this.limits.maxPendingPaths };
    const visit = async (dir: OpenDir): Promise<void> => {
      for (const entry of await readEntries(dir, { includeHidden: true })) {
        if (budget.remaining-- <= 0) return;
        const path = dir.childRel(entry.name);
        const kind: Kind = entry.kind === "directory" ? "directory" : "file";
        if (this.known.get(path) === kind) continue;
        this.report(kind === "directory" ? "dir_created" : "file_created", path, kind);
        this.remember(path, kind);
        reported.add(path);
        if (kind === "directory") {
          await using child = await dir.openDir(entry.name);
          await visit(child);
        }
      }
    };
    try {
      await using dir = await ws.walk(rel.split("/"));
      await visit(dir);
    } catch {
      // Removed or replaced again meanwhile: its own events follow.
    }
  }

  private async indexTree(dir: OpenDir, budget: { remaining: number }): Promise<void> {
    for (const entry of await readEntries(dir, { includeHidden: true })) {
      if (budget.remaining-- <= 0) {
        this.indexComplete = false;
        return;
      }
      const kind: Kind = entry.kind === "directory" ? "directory" : "file";
      this.known.set(dir.childRel(entry.name), kind);
      if (kind === "directory") {
        try {
          await using child = await dir.openDir(entry.name);
          await this.indexTree(child, budget);
        } catch {
          // Vanished or swapped for a link while indexing: events will tell.
        }
      }
    }
  }

  /** What a workspace-relative path is now, looked up without following links. */
  private async kindOf(ws: OpenDir, rel: string): Promise<Kind | "missing" | "unreachable"> {
    const parts = rel.split("/");
    const name = parts.pop() ?? "";
    try {
      await using parent = await ws.walk(parts);
      const stat = await parent.lstat(name);
      if (!stat) return "missing";
      return stat.isDirectory() ? "directory" : "file";
    } catch (error) {
      return error instanceof ProtocolError && error.code === "path_not_allowed" ? "unreachable" : "missing";
    }
  }

  private report(eventType: FileChangeType, path: string, entryType: Kind): void {
    if (!this.closed) this.emit({ event_type: eventType, path, entry_type: entryType });
  }

  private remember(rel: string, kind: Kind): void {
    if (this.known.has(rel) || this.known.size < this.limits.indexLimit) {
      this.known.set(rel, kind);
    } else {
      this.indexComplete = false;
    }
  }

  private forget(rel: string): void {
    const kind = this.known.get(rel);
    this.known.delete(rel);
    if (kind !== "directory") return;
    const prefix = `${rel}/`;
    for (const path of this.known.keys()) if (path.startsWith(prefix)) this.known.delete(path);
  }
}

function depth(rel: string): number {
  let count = 0;
  for (const char of rel) if (char === "/") count++;
  return count;
}
