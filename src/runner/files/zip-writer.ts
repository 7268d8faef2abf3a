import { crc32 } from "node:zlib";
import { ProtocolError } from "../../protocol/index.ts";
import { iteratorToStream } from "./byte-streams.ts";

/*
 * A streaming ZIP writer (APPNOTE 6.3): each entry is a local header written before its data,
 * with CRC and sizes left zero and given afterwards in a data descriptor (flag bit 3), so file
 * contents are read once and never buffered. The central directory is kept in memory (one small
 * record per entry) and written at the end. No ZIP64: an archive whose offsets or sizes would pass
 * 4 GiB, or that has more than 65,535 entries, fails with `too_large`.
 */

export interface ZipEntry {
  /** Path inside the archive, "/"-separated, without a trailing slash for directories. */
  name: string;
  directory: boolean;
  modifiedAt: number;
  /** Unix permission bits, kept in the external attributes. */
  mode: number;
  /** Deflate the content (else store it); ignored for directories. */
  deflate: boolean;
  /** The content of a file entry, opened when the entry is written. */
  open?: () => Promise<AsyncIterable<Uint8Array<ArrayBuffer>>>;
}

export const ZIP_MAX_BYTES = 0xffffffff;
export const ZIP_MAX_ENTRIES = 0xffff;

const SIG_LOCAL = 0x04034b50;
const SIG_DESCRIPTOR = 0x08074b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_END = 0x06054b50;
const VERSION = 20;
const MADE_BY_UNIX = (3 << 8) | VERSION;
const FLAG_DESCRIPTOR = 1 << 3;
const FLAG_UTF8 = 1 << 11;
const METHOD_STORE = 0;
const METHOD_DEFLATE = 8;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const MSDOS_DIR = 0x10;

export function zipTooLarge(): ProtocolError {
  return new ProtocolError(
    "too_large",
    `the zip would exceed 4 GiB or ${ZIP_MAX_ENTRIES} entries (ZIP64 is not supported)`,
  );
}

/** The archive of `entries` as a pull-based byte stream. */
export function createZipStream(
  entries: Iterable<ZipEntry> | AsyncIterable<ZipEntry>,
): ReadableStream<Uint8Array> {
  return iteratorToStream(zipChunks(entries));
}

async function* zipChunks(entries: Iterable<ZipEntry> | AsyncIterable<ZipEntry>): AsyncGenerator<Uint8Array> {
  const central: Uint8Array[] = [];
  let offset = 0;
  /** Counts bytes about to be written; refuses them before they pass the 32-bit limit. */
  const advance = (bytes: number) => {
    offset += bytes;
    if (offset > ZIP_MAX_BYTES) throw zipTooLarge();
  };
  for await (const entry of entries) {
    if (central.length >= ZIP_MAX_ENTRIES) throw zipTooLarge();
    const name = new TextEncoder().encode(entry.directory ? `${entry.name}/` : entry.name);
    const isFile = !entry.directory;
    const method = isFile && entry.deflate ? METHOD_DEFLATE : METHOD_STORE;
    const flags = FLAG_UTF8 | (isFile ? FLAG_DESCRIPTOR : 0);
    const stamp = dosDateTime(entry.modifiedAt);
    const headerOffset = offset;
    const header = localHeader(name, flags, method, stamp);
    advance(header.length);
    yield header;

    const sums = { crc: 0, size: 0, compressed: 0 };
    if (isFile && entry.open) {
      const source = await entry.open();
      const counted = (async function* () {
        for await (const chunk of source) {
          sums.crc = crc32(chunk, sums.crc);
          sums.size += chunk.length;
          if (sums.size > ZIP_MAX_BYTES) throw zipTooLarge();
          yield chunk;
        }
      })();
      for await (const chunk of method === METHOD_DEFLATE ? deflateRaw(counted) : counted) {
        sums.compressed += chunk.length;
        advance(chunk.length);
        yield chunk;
      }
      const descriptor = dataDescriptor(sums.crc, sums.compressed, sums.size);
      advance(descriptor.length);
      yield descriptor;
    }
    central.push(centralHeader(name, flags, method, stamp, sums, entry, headerOffset));
  }
  const directoryOffset = offset;
  for (const record of central) {
    advance(record.length);
    yield record;
  }
  yield endOfCentralDirectory(central.length, offset - directoryOffset, directoryOffset);
}

function deflateRaw(source: AsyncIterable<Uint8Array<ArrayBuffer>>): AsyncIterable<Uint8Array> {
  return iteratorToStream<BufferSource>(source).pipeThrough(new CompressionStream("deflate-raw"));
}

interface DosStamp {
  time: number;
  date: number;
}

/** MS-DOS local date and time (2 s resolution, years 1980–2107). */
function dosDateTime(ms: number): DosStamp {
  const d = new Date(ms);
  const year = d.getFullYear();
  if (year < 1980) return { time: 0, date: (1 << 5) | 1 };
  if (year > 2107) return { time: (23 << 11) | (59 << 5) | 29, date: (127 << 9) | (12 << 5) | 31 };
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

function localHeader(name: Uint8Array, flags: number, method: number, stamp: DosStamp): Uint8Array {
  const bytes = new Uint8Array(30 + name.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, SIG_LOCAL, true);
  view.setUint16(4, VERSION, true);
  view.setUint16(6, flags, true);
  view.setUint16(8, method, true);
  view.setUint16(10, stamp.time, true);
  view.setUint16(12, stamp.date, true);
  // CRC-32 and sizes (14..25) stay zero: they follow in the data descriptor.
  view.setUint16(26, name.length, true);
  view.setUint16(28, 0, true);
  bytes.set(name, 30);
  return bytes;
}

function dataDescriptor(crc: number, compressed: number, size: number): Uint8Array {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, SIG_DESCRIPTOR, true);
  view.setUint32(4, crc >>> 0, true);
  view.setUint32(8, compressed, true);
  view.setUint32(12, size, true);
  return bytes;
}

function centralHeader(
  name: Uint8Array,
  flags: number,
  method: number,
  stamp: DosStamp,
  sums: { crc: number; size: number; compressed: number },
  entry: ZipEntry,
  headerOffset: number,
): Uint8Array {
  const bytes = new Uint8Array(46 + name.length);
  const view = new DataView(bytes.buffer);
  const unixMode = (entry.directory ? S_IFDIR : S_IFREG) | (entry.mode & 0o7777);
  view.setUint32(0, SIG_CENTRAL, true);
  view.setUint16(4, MADE_BY_UNIX, true);
  view.setUint16(6, VERSION, true);
  view.setUint16(8, flags, true);
  view.setUint16(10, method, true);
  view.setUint16(12, stamp.time, true);
  view.setUint16(14, stamp.date, true);
  view.setUint32(16, sums.crc >>> 0, true);
  view.setUint32(20, sums.compressed, true);
  view.setUint32(24, sums.size, true);
  view.setUint16(28, name.length, true);
  // Extra field, comment, disk number and internal attributes (30..37) stay zero.
  view.setUint32(38, ((unixMode << 16) | (entry.directory ? MSDOS_DIR : 0)) >>> 0, true);
  view.setUint32(42, headerOffset, true);
  bytes.set(name, 46);
  return bytes;
}

function endOfCentralDirectory(count: number, size: number, offset: number): Uint8Array {
  const bytes = new Uint8Array(22);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, SIG_END, true);
  // Disk numbers (4..7) stay zero.
  view.setUint16(8, count, true);
  view.setUint16(10, count, true);
  view.setUint32(12, size, true);
  view.setUint32(16, offset, true);
  return bytes;
}
