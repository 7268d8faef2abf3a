import { computed, signal } from "@preact/signals";
import { base64ToBytes, decodeText } from "../../lib/base64.ts";
import { errorText } from "../../lib/errors.ts";
import { type FileKind, fileKind } from "../../lib/file-kinds.ts";
import type { FilesClient } from "./files-client.ts";

export type DocumentView =
  | { status: "loading" }
  /** The text is in `text`; `truncated`: only the first read window of a larger file (read-only). */
  | { status: "text"; truncated: boolean; size: number }
  /** Images and PDFs: the browser loads them from the REST URL. */
  | { status: "media" }
  | { status: "binary"; size: number }
  | { status: "failed"; error: string };

const encoder = new TextEncoder();

/**
 * The file open in the file pane: its text as read, the editor's copy, and whether they differ.
 * A watched change reloads it when there are no local edits, and otherwise only says so.
 */
export class FileDocument {
  readonly kind: FileKind;
  readonly view = signal<DocumentView>({ status: "loading" });
  /** What is on disk (as last read or saved). */
  readonly savedText = signal("");
  /** The editor's buffer. */
  readonly text = signal("");
  readonly dirty = computed(
    () => this.view.value.status === "text" && this.text.value !== this.savedText.value,
  );
  readonly editing = signal(false);
  readonly saving = signal(false);
  readonly saveError = signal<string | null>(null);
  /** The file changed on disk while there were unsaved edits. */
  readonly changedOnDisk = signal(false);
  readonly deleted = signal(false);
  /** Bumped on every change on disk; media URLs carry it so the browser fetches the new bytes. */
  readonly version = signal(0);

  constructor(
    private readonly client: FilesClient,
    readonly path: string,
  ) {
    this.kind = fileKind(path);
  }

  get editable(): boolean {
    const view = this.view.value;
    return view.status === "text" && !view.truncated;
  }

  async load(): Promise<void> {
    if (this.kind === "image" || this.kind === "pdf") {
      this.view.value = { status: "media" };
      return;
    }
    if (this.view.value.status !== "text") this.view.value = { status: "loading" };
    try {
      const result = await this.client.read(this.path);
      const text = decodeText(base64ToBytes(result.content), !result.eof);
      if (text === null) {
        this.view.value = { status: "binary", size: result.size };
        return;
      }
      // Compared directly, not through `dirty`: edits carried over from a renamed file count too.
      const hadEdits = this.text.peek() !== this.savedText.peek();
      this.savedText.value = text;
      if (!hadEdits) this.text.value = text;
      this.view.value = { status: "text", truncated: !result.eof, size: result.size };
      this.deleted.value = false;
    } catch (error) {
      this.view.value = { status: "failed", error: errorText(error) };
    }
  }

  /** Writes the editor's buffer; resolves true when it is on disk. */
  async save(): Promise<boolean> {
    if (!this.editable || this.saving.value) return false;
    const text = this.text.value;
    this.saving.value = true;
    this.saveError.value = null;
    try {
      await this.client.write(this.path, encoder.encode(text), { overwrite: true, createParents: true });
      this.savedText.value = text;
      this.changedOnDisk.value = false;
      this.deleted.value = false;
      return true;
    } catch (error) {
      this.saveError.value = errorText(error);
      return false;
    } finally {
      this.saving.value = false;
    }
  }

  /** Drops local edits and shows what is on disk. */
  revert(): void {
    this.text.value = this.savedText.value;
    this.changedOnDisk.value = false;
    void this.load();
  }

  /** The watch reported a change of this file. */
  async onChangedOnDisk(deleted: boolean): Promise<void> {
    this.version.value += 1;
    if (deleted) {
      this.deleted.value = true;
      return;
    }
    this.deleted.value = false;
    if (this.view.value.status !== "text") {
      await this.load();
      return;
    }
    if (!this.dirty.value) {
      await this.load();
      return;
    }
    // Unsaved edits: keep them, and say so only if the disk now holds something else (our own save
    // also arrives here).
    const before = this.savedText.value;
    try {
      const result = await this.client.read(this.path);
      const text = decodeText(base64ToBytes(result.content), !result.eof);
      if (text !== before) this.changedOnDisk.value = true;
    } catch {
      this.changedOnDisk.value = true;
    }
  }
}
