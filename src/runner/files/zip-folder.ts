import { basename } from "node:path";
import { ProtocolError } from "../../protocol/index.ts";
import { fileStream } from "./byte-streams.ts";
import { readEntries } from "./dir-entries.ts";
import { mimeTypeOf } from "./file-stream.ts";
import { toProtocolError } from "./fs-errors.ts";
import { joinRel, type OpenDir, type PathGuard } from "./path-guard.ts";
import { createZipStream, ZIP_MAX_BYTES, ZIP_MAX_ENTRIES, type ZipEntry, zipTooLarge } from "./zip-writer.ts";

/** Bytes a ZIP adds per entry besides the name twice: local header, descriptor, central record. */
const ENTRY_OVERHEAD = 30 + 16 + 46;

/** Content types that are compressed already: stored rather than deflated again. */
const COMPRESSED_TYPE = /^(image\/(?!svg)|video\/|audio\/)|zip|compressed|x-xz|x-bzip|zstd|rar/;

interface FolderItem {
  parts: string[];
  directory: boolean;
  size: number;
  modifiedAt: number;
  mode: number;
}

export interface FolderZip {
  stream: ReadableStream<Uint8Array>;
  /** Suggested file name, e.g. "src.zip". */
  fileName: string;
  entries: number;
}

/**
 * A streamed ZIP of a workspace folder, entries under the folder's own name. The folder is
 * listed first (without following links; symlinks and special files are left out, hard-linked
 * files refuse the whole archive as they do a read), so limits fail before any byte is sent;
 * each file is then opened again through the path guard when its turn comes.
 */
export async function zipFolder(
  guard: PathGuard,
  workspacePath: string,
  parts: string[],
): Promise<FolderZip> {
  const items: FolderItem[] = [];
  let estimate = 22;
  let root: FolderItem;
  {
    await using ws = await guard.openWorkspace(workspacePath);
    await using folder = await ws.walk(parts);
    const stat = await folder.lstat(".");
    root = {
      parts,
      directory: true,
      size: 0,
      modifiedAt: stat?.mtimeMs ?? Date.now(),
      mode: (stat?.mode ?? 0o755) & 0o7777,
    };
    const collect = async (dir: OpenDir): Promise<void> => {
      for (const entry of await readEntries(dir, { includeHidden: true })) {
        if (entry.kind === "symlink") continue;
        const itemParts = [...dir.parts, entry.name];
        if (entry.kind === "file" && entry.links > 1) {
          throw new ProtocolError(
            "path_not_allowed",
            `'${joinRel(itemParts)}' has ${entry.links} hard links; hard-linked files are refused`,
          );
        }
        const directory = entry.kind === "directory";
        items.push({
          parts: itemParts,
          directory,
          size: directory ? 0 : entry.size,
          modifiedAt: entry.modifiedAt,
          mode: entry.mode,
        });
        estimate += ENTRY_OVERHEAD + 2 * Buffer.byteLength(joinRel(itemParts)) + (directory ? 0 : entry.size);
        if (items.length + 1 > ZIP_MAX_ENTRIES || estimate > ZIP_MAX_BYTES) throw zipTooLarge();
        if (directory) {
          await using child = await dir.openDir(entry.name);
          await collect(child);
        }
      }
    };
    await collect(folder);
  }

  const rootName = parts.at(-1) ?? basename(workspacePath);
  const archivePath = (itemParts: string[]) => [rootName, ...itemParts.slice(parts.length)].join("/");

  async function* zipEntries(): AsyncGenerator<ZipEntry> {
    // One workspace fd for the whole stream, and the directory of the files being added (files
    // of one directory come one after another), closed when the stream ends or is cancelled.
    await using ws = await guard.openWorkspace(workspacePath);
    let parent: { key: string; dir: OpenDir } | undefined;
    const openParent = async (dirParts: string[]): Promise<OpenDir> => {
      const key = dirParts.join("/");
      if (parent?.key !== key) {
        await parent?.dir.close();
        parent = undefined;
        parent = { key, dir: await ws.walk(dirParts) };
      }
      return parent.dir;
    };
    try {
      for (const item of [root, ...items]) {
        const name = archivePath(item.parts);
        if (item.directory) {
          yield { name, directory: true, modifiedAt: item.modifiedAt, mode: item.mode, deflate: false };
          continue;
        }
        yield {
          name,
          directory: false,
          modifiedAt: item.modifiedAt,
          mode: item.mode,
          deflate: !COMPRESSED_TYPE.test(mimeTypeOf(name)),
          open: async () => {
            const dir = await openParent(item.parts.slice(0, -1));
            const { fd, stat } = await dir.openFile(item.parts.at(-1) ?? "");
            // The size at open time is what goes in; a file that shrinks meanwhile is an error.
            return fileStream(fd, 0, stat.size, (error) => toProtocolError(error, joinRel(item.parts)));
          },
        };
      }
    } finally {
      await parent?.dir.close();
    }
  }

  return { stream: createZipStream(zipEntries()), fileName: `${rootName}.zip`, entries: items.length + 1 };
}
