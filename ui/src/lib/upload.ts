import { RestError } from "../../../src/protocol/index.ts";

export interface UploadHandle {
  /** Resolves when the server stored the file; rejects with the server's message otherwise. */
  done: Promise<void>;
  abort: () => void;
}

/**
 * PUTs one file with XMLHttpRequest, which (unlike fetch) reports upload progress. The body is the
 * File itself, streamed by the browser; the auth cookie goes with it.
 */
export function uploadFile(url: string, file: File, onProgress: (loaded: number) => void): UploadHandle {
  const xhr = new XMLHttpRequest();
  const done = new Promise<void>((resolve, reject) => {
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(file.size);
        resolve();
      } else reject(new Error(describeFailure(xhr)));
    };
    xhr.onerror = () => reject(new Error("The upload failed: the server cannot be reached."));
    xhr.onabort = () => reject(new DOMException("Upload cancelled", "AbortError"));
  });
  xhr.open("PUT", url);
  xhr.setRequestHeader("Content-Type", "application/octet-stream");
  xhr.send(file);
  return { done, abort: () => xhr.abort() };
}

function describeFailure(xhr: XMLHttpRequest): string {
  try {
    const body = RestError.safeParse(JSON.parse(xhr.responseText));
    if (body.success) return body.data.error;
  } catch {
    // Not JSON: fall back to the status line.
  }
  return `Upload failed (${xhr.status} ${xhr.statusText})`;
}
