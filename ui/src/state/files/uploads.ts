import { signal } from "@preact/signals";
import { errorText } from "../../lib/errors.ts";
import { type UploadHandle, uploadFile } from "../../lib/upload.ts";

export type UploadStatus = "queued" | "uploading" | "done" | "failed" | "cancelled";

/** Uploads running at once; the rest wait their turn. */
const CONCURRENCY = 3;

let uploadCounter = 0;

/** One file on its way to the workspace, with its progress. */
export class UploadItem {
  readonly key: string;
  readonly loaded = signal(0);
  readonly status = signal<UploadStatus>("queued");
  readonly error = signal<string | null>(null);
  handle: UploadHandle | null = null;

  constructor(
    readonly file: File,
    /** Destination, relative to the workspace. */
    readonly path: string,
  ) {
    uploadCounter += 1;
    this.key = `u${uploadCounter}`;
  }

  cancel(): void {
    if (this.status.value === "queued") this.status.value = "cancelled";
    else if (this.status.value === "uploading") this.handle?.abort();
  }
}

/** Files dropped or picked for upload: a few at a time over REST PUT, each with its own progress. */
export class UploadQueue {
  readonly items = signal<readonly UploadItem[]>([]);
  private running = 0;

  constructor(
    private readonly urlFor: (path: string) => string,
    private readonly onUploaded: (path: string) => void,
  ) {}

  add(files: readonly { file: File; path: string }[]): void {
    if (files.length === 0) return;
    this.items.value = [...this.items.value, ...files.map(({ file, path }) => new UploadItem(file, path))];
    this.pump();
  }

  /** Removes the finished, failed and cancelled rows. */
  clearFinished(): void {
    this.items.value = this.items.value.filter(
      (item) => item.status.value === "queued" || item.status.value === "uploading",
    );
  }

  private pump(): void {
    for (const item of this.items.value) {
      if (this.running >= CONCURRENCY) return;
      if (item.status.value === "queued") void this.run(item);
    }
  }

  private async run(item: UploadItem): Promise<void> {
    this.running += 1;
    item.status.value = "uploading";
    try {
      item.handle = uploadFile(this.urlFor(item.path), item.file, (loaded) => {
        item.loaded.value = loaded;
      });
      await item.handle.done;
      item.status.value = "done";
      this.onUploaded(item.path);
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") item.status.value = "cancelled";
      else {
        item.status.value = "failed";
        item.error.value = errorText(error);
      }
    } finally {
      item.handle = null;
      this.running -= 1;
      this.pump();
    }
  }
}
