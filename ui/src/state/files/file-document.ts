import { computed, signal } from "@preact/signals";
import { errorText } from "../../lib/errors.ts";
import { type FileKind, fileKind } from "../../lib/file-kinds.ts";
import { readTextFile, SaveConflict, writeTextFile } from "./file-rest.ts";

export type DocumentView =
  | { status: "loading" }
  /** The text is in `text`; `truncated`: only the first read window of a larger file (read-only). */
  | { status: "text"; truncated: boolean; size: number }
  /** Images and PDFs: the browser loads them from the REST URL. */
  | { status: "media" }
  | { status: "binary"; size: number }
  | { status: "failed"; error: string };

/**
 * The file open in the file pane: its text as read, the editor's copy, and whether they differ.
 * A watched change reloads it when there are no local edits, and otherwise only says so. A save
 * names the version the edits started from (its ETag), so a file changed on disk meanwhile is
 * never overwritten silently: the save is refused and the user chooses (`conflict`).
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
  /** The last save was refused: the file on disk is not the version the edits started from. */
  readonly conflict = signal(false);
  readonly deleted = signal(false);
  /** Bumped on every change on disk; media URLs carry it so the browser fetches the new bytes. */
  readonly version = signal(0);

  /** ETag of the version `savedText` holds; null when there is no file (deleted on disk). */
  private etag: string | null = null;

  constructor(
    private readonly workspace: string,
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
      const result = await readTextFile(this.workspace, this.path);
      if (result.kind === "binary") {
        this.view.value = { status: "binary", size: result.size };
        return;
      }
      // Compared directly, not through `dirty`: edits carried over from a renamed file count too
      // (a rename keeps the file's version, so they still start from this one).
      const hadEdits = this.text.peek() !== this.savedText.peek();
      this.savedText.value = result.text;
      this.etag = result.etag || null;
      if (!hadEdits) this.text.value = result.text;
      this.view.value = { status: "text", truncated: result.truncated, size: result.size };
      this.deleted.value = false;
    } catch (error) {
      this.view.value = { status: "failed", error: errorText(error) };
    }
  }

  /**
   * Writes the editor's buffer over the version it started from (or as a new file); resolves true
   * when it is on disk. A refusal sets `conflict`; `overwrite` is the user's answer to it.
   */
  async save(overwrite = false): Promise<boolean> {
    if (!this.editable || this.saving.value) return false;
    const text = this.text.value;
    this.saving.value = true;
    this.saveError.value = null;
    try {
      const expected = overwrite ? "any" : this.etag === null ? "new" : { etag: this.etag };
      this.etag = await writeTextFile(this.workspace, this.path, text, expected);
      this.savedText.value = text;
      this.changedOnDisk.value = false;
      this.deleted.value = false;
      this.conflict.value = false;
      return true;
    } catch (error) {
      if (error instanceof SaveConflict) this.conflict.value = true;
      else this.saveError.value = errorText(error);
      return false;
    } finally {
      this.saving.value = false;
    }
  }

  /** Drops local edits and shows what is on disk. */
  revert(): void {
    this.text.value = this.savedText.value;
    this.changedOnDisk.value = false;
    this.conflict.value = false;
    void this.load();
  }

  /** The watch reported a change of this file. */
  async onChangedOnDisk(deleted: boolean): Promise<void> {
    this.version.value += 1;
    if (deleted) {
      this.deleted.value = true;
      // Saving now creates the file, unless something else did first (If-None-Match: *).
      this.etag = null;
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
      const result = await readTextFile(this.workspace, this.path);
      if (result.kind === "text" && result.text === before) {
        // The same text in a new version (a touch, or our own save reported before its answer):
        // the edits still start from what is on disk.
        this.etag = result.etag || null;
      } else this.changedOnDisk.value = true;
    } catch {
      this.changedOnDisk.value = true;
    }
  }
}
