import { ProtocolError } from "../../protocol/index.ts";
import type { FileService, WriteStreamOptions } from "./file-service.ts";

const MAX_OPEN_UPLOADS = 32;
/** Received bytes one upload may hold before the disk took them; the server's window is smaller. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
/** An upload without a frame, sync or finish for this long is dropped with its temp file. */
const IDLE_CLOSE_MS = 60_000;

export interface UploadTarget extends WriteStreamOptions {
  workspacePath: string;
  path: string;
}

/**
 * One upload: data frames are queued as they arrive and handed to the atomic file writer
 * (FileService.writeStream) one at a time. The writer pulls the next chunk only after it wrote
 * the previous one, so "delivered before the latest pull" is "on disk" (in the temp file).
 */
class Upload {
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private delivered = 0;
  private written = 0;
  private ended = false;
  private failure: unknown;
  private wakePull: (() => void) | undefined;
  private syncs: Array<{ target: number; resolve: (written: number) => void; reject: (e: unknown) => void }> =
    [];
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  readonly started: Promise<void>;
  readonly done: Promise<{ path: string; size: number; created: boolean; etag: string }>;
  idleTimer: Timer | undefined;

  constructor(files: FileService, target: UploadTarget) {
    let markStarted = () => {};
    this.started = new Promise((resolve) => {
      markStarted = resolve;
    });
    const body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller;
        },
        pull: async (controller) => {
          markStarted();
          this.written = this.delivered;
          this.settleSyncs();
          while (this.queue.length === 0 && !this.ended) {
            await new Promise<void>((resolve) => {
              this.wakePull = resolve;
            });
          }
          const next = this.queue.shift();
          if (!next) {
            controller.close();
            return;
          }
          this.queuedBytes -= next.length;
          this.delivered += next.length;
          controller.enqueue(next);
        },
      },
      { highWaterMark: 0 },
    );
    this.done = files.writeStream(target.workspacePath, target.path, body, target);
    this.done.then(
      (result) => {
        this.written = result.size;
        this.settleSyncs();
      },
      (error) => this.fail(error),
    );
  }

  receive(payload: Uint8Array): void {
    if (this.failure !== undefined || this.ended) return;
    if (this.queuedBytes + payload.length > MAX_BUFFERED_BYTES) {
      this.cancel(new ProtocolError("busy", `more than ${MAX_BUFFERED_BYTES} bytes sent ahead of the disk`));
      return;
    }
    this.queue.push(payload);
    this.queuedBytes += payload.length;
    this.wake();
  }

  /** Resolves with the bytes on disk once everything received so far is. */
  sync(): Promise<number> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const target = this.delivered + this.queuedBytes;
    if (this.written >= target) return Promise.resolve(this.written);
    return new Promise((resolve, reject) => this.syncs.push({ target, resolve, reject }));
  }

  finish(): Promise<{ path: string; size: number; created: boolean; etag: string }> {
    this.ended = true;
    this.wake();
    return this.done;
  }

  cancel(reason: unknown): void {
    if (this.failure !== undefined) return;
    this.ended = true;
    this.queue = [];
    this.queuedBytes = 0;
    this.controller?.error(reason);
    this.fail(reason);
    this.wake();
  }

  private fail(error: unknown): void {
    this.failure ??= error;
    for (const sync of this.syncs.splice(0)) sync.reject(this.failure);
  }

  private wake(): void {
    const wake = this.wakePull;
    this.wakePull = undefined;
    wake?.();
  }

  private settleSyncs(): void {
    const ready = this.syncs.filter((s) => s.target <= this.written);
    this.syncs = this.syncs.filter((s) => s.target > this.written);
    for (const sync of ready) sync.resolve(this.written);
  }
}

/**
 * Uploads the server streams to the runner as data frames (`files.open_write`, frames,
 * `files.stream_sync` for flow control, `files.finish_write` to commit). Bounded in number,
 * bytes held and idle time; a dropped upload leaves no file behind (the writer discards its temp file).
 */
export class UploadStreams {
  private readonly uploads = new Map<string, Upload>();

  constructor(private readonly files: FileService) {}

  async open(target: UploadTarget): Promise<string> {
    if (this.uploads.size >= MAX_OPEN_UPLOADS) {
      throw new ProtocolError("busy", `at most ${MAX_OPEN_UPLOADS} uploads at once`);
    }
    const upload = new Upload(this.files, target);
    // The target is checked (and the temp file made) before the writer asks for bytes.
    await Promise.race([upload.started, upload.done]);
    const id = crypto.randomUUID();
    this.uploads.set(id, upload);
    this.touch(id, upload);
    return id;
  }

  /** A data frame of an upload; frames of an unknown or failed upload are dropped (its sync fails). */
  receive(id: string, payload: Uint8Array): void {
    const upload = this.uploads.get(id);
    if (!upload) return;
    this.touch(id, upload);
    upload.receive(payload);
  }

  async sync(id: string): Promise<{ written: number }> {
    const upload = this.get(id);
    this.touch(id, upload);
    try {
      return { written: await upload.sync() };
    } catch (error) {
      this.close(id);
      throw error;
    }
  }

  async finish(id: string): Promise<{ path: string; size: number; created: boolean; etag: string }> {
    const upload = this.get(id);
    clearTimeout(upload.idleTimer);
    try {
      return await upload.finish();
    } finally {
      this.uploads.delete(id);
    }
  }

  /** Drops an upload and its temp file; false when there was none. */
  close(id: string): boolean {
    const upload = this.uploads.get(id);
    if (!upload) return false;
    clearTimeout(upload.idleTimer);
    this.uploads.delete(id);
    upload.cancel(new ProtocolError("io_error", "the upload was cancelled"));
    void upload.done.catch(() => undefined);
    return true;
  }

  closeAll(): void {
    for (const id of [...this.uploads.keys()]) this.close(id);
  }

  private get(id: string): Upload {
    const upload = this.uploads.get(id);
    if (!upload) throw new ProtocolError("not_found", `no open upload ${id}`);
    return upload;
  }

  private touch(id: string, upload: Upload): void {
    clearTimeout(upload.idleTimer);
    upload.idleTimer = setTimeout(() => this.close(id), IDLE_CLOSE_MS);
  }
}
