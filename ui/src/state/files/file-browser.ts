import { signal } from "@preact/signals";
import type { Workspace } from "../../../../src/protocol/index.ts";
import { errorText } from "../../lib/errors.ts";
import { fileUrl } from "../../lib/file-urls.ts";
import type { MuxClient } from "../../lib/mux-client.ts";
import { baseName, isWithin, joinPath, parentPath, ROOT_PATH } from "../../lib/paths.ts";
import { confirmDialog, promptDialog } from "../dialogs.ts";
import { FileDocument } from "./file-document.ts";
import { type FileNode, FileTree } from "./file-tree.ts";
import { FilesClient } from "./files-client.ts";
import { UploadQueue } from "./uploads.ts";

/** A name typed for a new or renamed entry: one path segment, or a relative path for new entries. */
function checkName(value: string, allowSlash: boolean): string {
  const name = value.trim();
  if (!name) throw new Error("Enter a name.");
  const parts = name.split("/");
  if (!allowSlash && parts.length > 1) throw new Error("A name cannot contain “/”.");
  if (parts.some((part) => part === "" || part === "." || part === "..")) {
    throw new Error("Use a relative name without “.”, “..” or empty parts.");
  }
  return name;
}

/**
 * The file pane of one workspace: the tree (watched while the pane is in use), the open file,
 * uploads, and the file operations behind the context menu.
 */
export class FileBrowser {
  readonly client: FilesClient;
  readonly tree: FileTree;
  readonly uploads: UploadQueue;
  readonly document = signal<FileDocument | null>(null);
  /** The highlighted tree row (a file or a folder). */
  readonly selected = signal<string | null>(null);
  /** A failed operation, shown above the tree until dismissed. */
  readonly notice = signal<string | null>(null);
  readonly watching = signal(false);
  private active = false;
  private disposers: (() => void)[] = [];

  constructor(
    private readonly mux: MuxClient,
    readonly workspace: Workspace,
  ) {
    this.client = new FilesClient(mux, workspace.path);
    this.tree = new FileTree(this.client);
    this.uploads = new UploadQueue(
      (path) => fileUrl(workspace.name, path, { createParents: true }),
      (path) => {
        this.tree.scheduleRefresh(parentPath(path));
        const open = this.document.value;
        if (open?.path === path) void open.onChangedOnDisk(false);
      },
    );
  }

  /** The pane is on screen: list the root and watch the workspace. */
  activate(): void {
    if (this.active) return;
    this.active = true;
    this.disposers = [
      this.client.onChange((change) => {
        this.tree.onChange(change);
        const open = this.document.value;
        if (open && change.entry_type === "file" && open.path === change.path) {
          void open.onChangedOnDisk(change.event_type === "file_deleted");
        } else if (open && change.event_type === "dir_deleted" && isWithin(open.path, change.path)) {
          void open.onChangedOnDisk(true);
        }
      }),
      // A new socket has no watch: ask again, and catch up on what changed meanwhile.
      this.mux.onReady(() => {
        void this.watch();
        this.tree.refreshAll();
      }),
    ];
    if (this.tree.root.children.value === null) void this.tree.load(this.tree.root);
    else this.tree.refreshAll();
    void this.watch();
  }

  /** The workspace page closed: stop watching (the tree and the open file stay for the next visit). */
  deactivate(): void {
    if (!this.active) return;
    this.active = false;
    for (const dispose of this.disposers) dispose();
    this.disposers = [];
    if (this.watching.value) this.client.unwatch().catch(() => undefined);
    this.watching.value = false;
  }

  /** Opens a file in the preview/editor, after asking before unsaved edits are dropped. */
  async openFile(path: string): Promise<boolean> {
    const current = this.document.value;
    if (current?.path !== path && !(await this.confirmDiscard())) return false;
    this.selected.value = path;
    void this.tree.reveal(path);
    if (current?.path === path) return true;
    const document = new FileDocument(this.workspace.name, path);
    this.document.value = document;
    await document.load();
    return true;
  }

  async closeFile(): Promise<void> {
    if (await this.confirmDiscard()) this.document.value = null;
  }

  /** True when nothing unsaved would be lost, or the user agreed to lose it. */
  async confirmDiscard(): Promise<boolean> {
    const current = this.document.value;
    if (!current?.dirty.value) return true;
    return confirmDialog({
      title: "Discard unsaved changes?",
      message: `${current.path} has changes that are not saved.`,
      confirmLabel: "Discard",
      danger: true,
    });
  }

  /** The folder a new entry goes into when `node` is the target: the node itself or its parent. */
  targetDirectory(node: FileNode | null): string {
    if (!node) return ROOT_PATH;
    return node.isDirectory ? node.path : parentPath(node.path);
  }

  async createFile(directory: string): Promise<void> {
    await promptDialog({
      title: "New file",
      label: `Name (in ${directory === ROOT_PATH ? "the workspace root" : directory})`,
      confirmLabel: "Create",
      action: async (value) => {
        const path = joinPath(directory, checkName(value, true));
        await this.client.write(path, new Uint8Array(0), { overwrite: false, createParents: true });
        this.tree.scheduleRefresh(directory);
        await this.openFile(path);
        const opened = this.document.value;
        if (opened?.path === path) opened.editing.value = true;
      },
    });
  }

  async createFolder(directory: string): Promise<void> {
    await promptDialog({
      title: "New folder",
      label: `Name (in ${directory === ROOT_PATH ? "the workspace root" : directory})`,
      confirmLabel: "Create",
      action: async (value) => {
        const path = joinPath(directory, checkName(value, true));
        await this.client.createDirectory(path);
        this.tree.scheduleRefresh(directory);
        const parent = this.tree.node(directory);
        if (parent) await this.tree.expand(parent);
        this.selected.value = path;
      },
    });
  }

  async rename(node: FileNode): Promise<void> {
    await promptDialog({
      title: `Rename ${node.name}`,
      label: "New name",
      initial: node.name,
      selectStem: !node.isDirectory,
      confirmLabel: "Rename",
      action: async (value) => {
        const name = checkName(value, false);
        if (name === node.name) return;
        const to = joinPath(parentPath(node.path), name);
        await this.client.rename(node.path, to);
        this.afterMove(node.path, to);
      },
    });
  }

  /** Asks for a destination folder and moves the entry there. */
  async moveTo(node: FileNode): Promise<void> {
    const from = parentPath(node.path);
    await promptDialog({
      title: `Move ${node.name}`,
      label: "Destination folder (relative to the workspace; “.” is the root)",
      initial: from,
      confirmLabel: "Move",
      action: async (value) => {
        const folder = value.trim() === "" || value.trim() === ROOT_PATH ? ROOT_PATH : checkName(value, true);
        await this.move(node, folder);
      },
    });
  }

  /** Moves an entry into a folder (also the drop target of a drag inside the tree). */
  async move(node: FileNode, folder: string): Promise<void> {
    if (isWithin(folder, node.path)) throw new Error("A folder cannot be moved into itself.");
    const to = joinPath(folder, node.name);
    if (to === node.path) return;
    await this.client.move(node.path, to);
    this.tree.scheduleRefresh(folder);
    this.afterMove(node.path, to);
  }

  async remove(node: FileNode): Promise<void> {
    const confirmed = await confirmDialog({
      title: `Delete ${node.name}?`,
      message: node.isDirectory
        ? `The folder ${node.path} and everything in it will be deleted.`
        : `${node.path} will be deleted.`,
      confirmLabel: "Delete",
      danger: true,
    });
    if (!confirmed) return;
    try {
      await this.client.delete(node.path, node.isDirectory);
      this.tree.scheduleRefresh(parentPath(node.path));
      const open = this.document.value;
      if (open && isWithin(open.path, node.path)) this.document.value = null;
      if (this.selected.value && isWithin(this.selected.value, node.path)) this.selected.value = null;
    } catch (error) {
      this.notice.value = `Could not delete ${node.path}: ${errorText(error)}`;
    }
  }

  /** Queues files for upload into `directory` (paths below it as dropped, e.g. from a folder). */
  upload(files: readonly { file: File; relativePath: string }[], directory: string): void {
    this.uploads.add(
      files.map(({ file, relativePath }) => ({ file, path: joinPath(directory, relativePath) })),
    );
  }

  downloadUrl(node: FileNode): string {
    return fileUrl(this.workspace.name, node.path, node.isDirectory ? { zip: true } : { download: true });
  }

  private async watch(): Promise<void> {
    try {
      await this.client.watch();
      this.watching.value = true;
    } catch (error) {
      this.watching.value = false;
      this.notice.value = `Live updates are off: ${errorText(error)}`;
    }
  }

  /** After a rename or move: refresh both folders and follow the open file and the selection. */
  private afterMove(from: string, to: string): void {
    this.tree.scheduleRefresh(parentPath(from));
    this.tree.scheduleRefresh(parentPath(to));
    const moved = (path: string) => (isWithin(path, from) ? to + path.slice(from.length) : path);
    if (this.selected.value) this.selected.value = moved(this.selected.value);
    const open = this.document.value;
    if (open && isWithin(open.path, from)) {
      const document = new FileDocument(this.workspace.name, moved(open.path));
      if (open.dirty.value) document.text.value = open.text.value;
      document.editing.value = open.editing.value;
      this.document.value = document;
      void document.load();
    }
  }
}

const browsers = new Map<string, FileBrowser>();

/** The file pane state of a workspace, kept while the tab lives (an open file survives switching pages). */
export function fileBrowserFor(mux: MuxClient, workspace: Workspace): FileBrowser {
  let browser = browsers.get(workspace.path);
  if (!browser) {
    browser = new FileBrowser(mux, workspace);
    browsers.set(workspace.path, browser);
  }
  return browser;
}

/** Sign-out: stop every watch and forget the panes. */
export function resetFileBrowsers(): void {
  for (const browser of browsers.values()) browser.deactivate();
  browsers.clear();
}

/** Path of a picked file below the upload folder: its folder structure (folder pickers), else its name. */
export function relativeUploadPath(file: File): string {
  return file.webkitRelativePath || baseName(file.name);
}

/** Leaving the page with unsaved edits in any open file asks first. */
export function installUnsavedChangesGuard(): void {
  window.addEventListener("beforeunload", (event) => {
    for (const browser of browsers.values()) {
      if (browser.document.value?.dirty.value) {
        event.preventDefault();
        return;
      }
    }
  });
}
