import { resolve } from "node:path";
import type { WriteResult } from "../../protocol/files.ts";
import { ProtocolError } from "../../protocol/index.ts";
import { prepareWrite } from "./content-ops.ts";
import { toProtocolError } from "./fs-errors.ts";
import { joinRel, type OpenDir, type PathGuard } from "./path-guard.ts";
import type { PendingFile } from "./pending-file.ts";

export interface UploadLimits {
  /** Largest file an upload may produce. */
  maxFileBytes: number;
  /** Uploads in progress at once. */
  maxUploads: number;
  /** An upload without a chunk for this long is dropped with its temp file. */
  idleMs: number;
}

export interface UploadChunk {
  workspacePath: string;
  parts: string[];
  uploadId: string;
  offset?: number | undefined;
  final?: boolean | undefined;
  createParents: boolean;
  overwrite: boolean;
  bytes: Uint8Array;
}

interface Upload {
  workspacePath: string;
  parts: string[];
  overwrite: boolean;
  pending: PendingFile;
  idleTimer: Timer | undefined;
}

/**
 * `files.write` with `upload_id`: chunks go into one temp file beside the target, which becomes
 * the target on `final: true` (PROTOCOL.md §2.2). The temp file's fd stays open between chunks, so
 * chunks land in that inode whatever happens to paths; the commit re-walks the parent directory
 * from the workspace and checks the temp entry still holds that inode. Chunks of one upload run
 * one at a time; a chunk may rewrite earlier bytes (a retry) but must not leave a gap.
 */
export class ChunkedUploads {
  private readonly uploads = new Map<string, Upload>();
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly guard: PathGuard,
    private readonly limits: UploadLimits,
  ) {}

  write(chunk: UploadChunk): Promise<WriteResult> {
    const key = `${resolve(chunk.workspacePath)}\n${chunk.uploadId}`;
    return this.serialize(key, () => this.writeChunk(key, chunk));
  }

  /** Drops every upload and its temp file (runner shutdown). */
  async discardAll(): Promise<void> {
    await Promise.all([...this.uploads.keys()].map((key) => this.serialize(key, () => this.discard(key))));
  }

  private async writeChunk(key: string, chunk: UploadChunk): Promise<WriteResult> {
    const rel = joinRel(chunk.parts);
    let upload = this.uploads.get(key);
    if (upload && joinRel(upload.parts) !== rel) {
      throw new ProtocolError(
        "invalid_request",
        `upload '${chunk.uploadId}' is writing '${joinRel(upload.parts)}'`,
      );
    }
    const offset = chunk.offset ?? upload?.pending.size ?? 0;
    if (!upload) {
      if (offset !== 0) {
        throw new ProtocolError(
          "not_found",
          `upload '${chunk.uploadId}' is unknown or expired; start it again at offset 0`,
        );
      }
      upload = await this.start(key, chunk);
    }
    if (offset > upload.pending.size) {
      throw new ProtocolError(
        "invalid_request",
        `chunk at offset ${offset} leaves a gap: ${upload.pending.size} bytes received so far`,
        { expected_offset: upload.pending.size },
      );
    }
    try {
      if (offset + chunk.bytes.length > this.limits.maxFileBytes) {
        throw new ProtocolError("too_large", `upload exceeds the limit of ${this.limits.maxFileBytes} bytes`);
      }
      await upload.pending.write(chunk.bytes, offset);
      if (chunk.final) {
        await this.commit(key, upload);
      } else {
        this.armIdleTimer(key, upload);
      }
      return { path: rel, size: upload.pending.size, success: true };
    } catch (error) {
      await this.discard(key);
      throw toProtocolError(error, rel);
    }
  }

  private async start(key: string, chunk: UploadChunk): Promise<Upload> {
    if (this.uploads.size >= this.limits.maxUploads) {
      throw new ProtocolError("busy", `${this.limits.maxUploads} uploads are already in progress`);
    }
    await using ws = await this.guard.openWorkspace(chunk.workspacePath);
    const { parent, pending } = await prepareWrite(ws, chunk);
    await parent.close();
    const upload: Upload = {
      workspacePath: chunk.workspacePath,
      parts: chunk.parts,
      overwrite: chunk.overwrite,
      pending,
      idleTimer: undefined,
    };
    this.uploads.set(key, upload);
    return upload;
  }

  private async commit(key: string, upload: Upload): Promise<void> {
    await using parent = await this.openParent(upload);
    const name = upload.parts.at(-1) ?? "";
    this.forget(key);
    await upload.pending.commit(parent, name, upload.overwrite);
  }

  private async discard(key: string): Promise<void> {
    const upload = this.uploads.get(key);
    if (!upload) return;
    this.forget(key);
    let parent: OpenDir | undefined;
    try {
      parent = await this.openParent(upload);
    } catch {
      parent = undefined; // the directory is gone or unreachable: only the fd is left to close
    }
    await using _dir = parent;
    await upload.pending.discard(parent);
  }

  private async openParent(upload: Upload): Promise<OpenDir> {
    await using ws = await this.guard.openWorkspace(upload.workspacePath);
    return await ws.walk(upload.parts.slice(0, -1));
  }

  private forget(key: string): void {
    const upload = this.uploads.get(key);
    if (upload?.idleTimer) clearTimeout(upload.idleTimer);
    this.uploads.delete(key);
  }

  private armIdleTimer(key: string, upload: Upload): void {
    if (upload.idleTimer) clearTimeout(upload.idleTimer);
    upload.idleTimer = setTimeout(() => {
      void this.serialize(key, () => this.discard(key));
    }, this.limits.idleMs);
    upload.idleTimer.unref();
  }

  /** Runs `task` after every earlier task for the same upload has settled. */
  private serialize<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const run = previous.then(task, task);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(key, settled);
    void settled.then(() => {
      if (this.queues.get(key) === settled) this.queues.delete(key);
    });
    return run;
  }
}
