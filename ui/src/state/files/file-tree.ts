import { signal } from "@preact/signals";
import type { TreeNode, TreeResult } from "../../../../src/protocol/index.ts";
import { errorText } from "../../lib/errors.ts";
import { ancestorPaths, isWithin, joinPath, parentPath, ROOT_PATH } from "../../lib/paths.ts";
import type { FileChanged, FilesClient } from "./files-client.ts";

export type EntryType = TreeNode["type"];

/** Changes in one directory arriving within this window cost one re-read. */
const REFRESH_DELAY_MS = 120;

/** One tree entry. What changes (children, expansion, size) is a signal, so a row re-renders alone. */
export class FileNode {
  /** `null` until the directory was listed. */
  readonly children = signal<readonly FileNode[] | null>(null);
  readonly expanded = signal(false);
  readonly loading = signal(false);
  readonly error = signal<string | null>(null);
  readonly hasMore = signal(false);
  readonly size = signal<number | undefined>(undefined);
  readonly modifiedAt = signal<number | undefined>(undefined);
  nextOffset = 0;
  /** Counts listings started; only the newest one's answer is applied. */
  listings = 0;

  constructor(
    readonly name: string,
    readonly path: string,
    readonly type: EntryType,
  ) {}

  get isDirectory(): boolean {
    return this.type === "directory";
  }
}

function compareNodes(a: FileNode, b: FileNode): number {
  if (a.isDirectory !== b.isDirectory) return a.isDirectory ? -1 : 1;
  return a.name.localeCompare(b.name, undefined, { numeric: true, sensitivity: "base" });
}

/**
 * The workspace tree, listed one directory at a time as the user expands it (lazy), and kept
 * current by the watch: a change re-reads the directory it happened in, if that one is loaded.
 */
export class FileTree {
  readonly root = new FileNode("", ROOT_PATH, "directory");
  private readonly nodes = new Map<string, FileNode>([[ROOT_PATH, this.root]]);
  private readonly refreshTimers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(private readonly client: FilesClient) {
    this.root.expanded.value = true;
  }

  node(path: string): FileNode | undefined {
    return this.nodes.get(path);
  }

  /** Lists a directory from its first entry, keeping the nodes (and their expansion) that are still there. */
  async load(directory: FileNode): Promise<void> {
    // Listings may be answered out of order (the runner serves requests concurrently): one sent
    // before a rename must not overwrite the one sent after it.
    const listing = ++directory.listings;
    const current = () => listing === directory.listings;
    directory.loading.value = true;
    try {
      const result = await this.client.list(directory.path);
      if (!current()) return;
      this.applyPage(directory, result, false);
      directory.error.value = null;
    } catch (error) {
      if (current()) directory.error.value = errorText(error);
    } finally {
      if (current()) directory.loading.value = false;
    }
  }

  async loadMore(directory: FileNode): Promise<void> {
    if (directory.loading.value || !directory.hasMore.value) return;
    directory.loading.value = true;
    try {
      this.applyPage(directory, await this.client.list(directory.path, directory.nextOffset), true);
    } catch (error) {
      directory.error.value = errorText(error);
    } finally {
      directory.loading.value = false;
    }
  }

  async expand(directory: FileNode): Promise<void> {
    directory.expanded.value = true;
    if (directory.children.value === null && !directory.loading.value) await this.load(directory);
  }

  toggle(directory: FileNode): void {
    if (directory.expanded.value) directory.expanded.value = false;
    else void this.expand(directory);
  }

  /** Expands the directories above `path` and returns its node, if it exists. */
  async reveal(path: string): Promise<FileNode | undefined> {
    if (this.root.children.value === null) await this.load(this.root);
    for (const ancestor of ancestorPaths(path)) {
      const directory = this.nodes.get(ancestor);
      if (!directory?.isDirectory) return undefined;
      await this.expand(directory);
    }
    return this.nodes.get(path);
  }

  /** A watched change: re-read the directory it happened in (and drop a deleted subtree at once). */
  onChange(change: FileChanged): void {
    if (change.event_type === "file_deleted" || change.event_type === "dir_deleted") this.forget(change.path);
    this.scheduleRefresh(parentPath(change.path));
  }

  /** Re-reads a directory soon, if it is loaded; several calls in a row cost one request. */
  scheduleRefresh(path: string): void {
    const directory = this.nodes.get(path);
    if (!directory || directory.children.value === null || this.refreshTimers.has(path)) return;
    this.refreshTimers.set(
      path,
      setTimeout(() => {
        this.refreshTimers.delete(path);
        void this.load(directory);
      }, REFRESH_DELAY_MS),
    );
  }

  /** Re-reads every loaded directory (after a reconnect: changes may have been missed). */
  refreshAll(): void {
    for (const [path, node] of this.nodes) if (node.children.value !== null) this.scheduleRefresh(path);
  }

  private applyPage(directory: FileNode, result: TreeResult, append: boolean): void {
    const previous = new Map((directory.children.value ?? []).map((child) => [child.name, child]));
    const listed = result.entries.map((entry) => this.nodeFor(directory, entry, previous.get(entry.name)));
    let children: FileNode[];
    if (append) {
      const names = new Set(listed.map((node) => node.name));
      children = [...(directory.children.value ?? []).filter((node) => !names.has(node.name)), ...listed];
    } else {
      const kept = new Set(listed);
      for (const node of previous.values()) if (!kept.has(node)) this.forget(node.path);
      children = listed;
    }
    directory.children.value = children.sort(compareNodes);
    directory.nextOffset = result.next_offset ?? (append ? directory.nextOffset : 0) + result.entries.length;
    directory.hasMore.value = result.next_offset !== undefined;
  }

  private nodeFor(directory: FileNode, entry: TreeNode, existing: FileNode | undefined): FileNode {
    const node =
      existing && existing.type === entry.type
        ? existing
        : new FileNode(entry.name, joinPath(directory.path, entry.name), entry.type);
    node.size.value = entry.size;
    node.modifiedAt.value = entry.modified_at;
    this.nodes.set(node.path, node);
    return node;
  }

  /** Drops a node and everything below it from the index. */
  private forget(path: string): void {
    for (const key of [...this.nodes.keys()]) {
      if (key !== ROOT_PATH && isWithin(key, path)) this.nodes.delete(key);
    }
  }
}
