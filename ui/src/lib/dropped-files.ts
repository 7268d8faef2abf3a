/** A file to upload and its path below the drop folder (folders dropped whole keep their structure). */
export interface DroppedFile {
  file: File;
  relativePath: string;
}

/**
 * The files of a drop, walking dropped folders. The entries must be taken while the drop event
 * runs (the browser empties the DataTransfer afterwards); the walk itself is asynchronous.
 */
export function droppedFiles(transfer: DataTransfer): Promise<DroppedFile[]> {
  const entries = [...transfer.items]
    .filter((item) => item.kind === "file")
    .map((item) => item.webkitGetAsEntry())
    .filter((entry): entry is FileSystemEntry => entry !== null);
  if (entries.length === 0) {
    return Promise.resolve([...transfer.files].map((file) => ({ file, relativePath: file.name })));
  }
  return walk(entries, "");
}

async function walk(entries: readonly FileSystemEntry[], prefix: string): Promise<DroppedFile[]> {
  const found: DroppedFile[] = [];
  for (const entry of entries) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (isFile(entry)) {
      found.push({
        file: await new Promise<File>((resolve, reject) => entry.file(resolve, reject)),
        relativePath: path,
      });
    } else if (isDirectory(entry)) {
      found.push(...(await walk(await readAll(entry), path)));
    }
  }
  return found;
}

/** `readEntries` returns a batch at a time (100 in Chromium) until it returns none. */
async function readAll(directory: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = directory.createReader();
  const all: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) =>
      reader.readEntries(resolve, reject),
    );
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

const isFile = (entry: FileSystemEntry): entry is FileSystemFileEntry => entry.isFile;
const isDirectory = (entry: FileSystemEntry): entry is FileSystemDirectoryEntry => entry.isDirectory;
