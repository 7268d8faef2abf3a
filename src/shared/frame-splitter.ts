import { LineSplitter } from "./line-splitter.ts";

/**
 * JSON lines with binary frames between them, on one byte stream. A binary frame starts where a
 * line could start, with BINARY_FRAME_MARK (0x00: no JSON text begins with it, and none contains
 * it raw), then two u32 big-endian lengths, a header (UTF-8 text, for the caller to parse) and a
 * payload: `00 | header length | payload length | header | payload`.
 */
export const BINARY_FRAME_MARK = 0x00;
export const BINARY_FRAME_PREFIX_BYTES = 9;

export interface FrameLimits {
  maxLineBytes: number;
  maxHeaderBytes: number;
  maxPayloadBytes: number;
}

/** The prefix and header of one binary frame; the payload follows it on the wire as is. */
export function encodeBinaryFrameHead(header: string, payloadBytes: number): Buffer {
  const headerBytes = Buffer.from(header);
  const head = Buffer.allocUnsafe(BINARY_FRAME_PREFIX_BYTES + headerBytes.length);
  head[0] = BINARY_FRAME_MARK;
  head.writeUInt32BE(headerBytes.length, 1);
  head.writeUInt32BE(payloadBytes, 5);
  headerBytes.copy(head, BINARY_FRAME_PREFIX_BYTES);
  return head;
}

/**
 * Splits received bytes into lines (LineSplitter rules) and binary frames. A frame's payload is
 * handed over as it arrives, in one or more pieces (`onPayload` with the frame's header text each
 * time), as views into the received chunks: no copy. That relies on the socket giving every data
 * callback a buffer of its own, which Bun does. A frame over the limits is a protocol violation:
 * `onViolation` is called and nothing more is parsed.
 */
export class FrameSplitter {
  private readonly lines: LineSplitter;
  /** Inside a line that started in an earlier chunk. */
  private midLine = false;
  private readonly prefix = Buffer.alloc(BINARY_FRAME_PREFIX_BYTES);
  /** Bytes of the current frame's prefix gathered so far (0: not in a frame). */
  private prefixFill = 0;
  private header: Buffer | undefined;
  private headerFill = 0;
  private headerText = "";
  private payloadLeft = 0;
  private failed = false;

  constructor(
    onLine: (line: string) => void,
    private readonly onPayload: (header: string, piece: Uint8Array) => void,
    private readonly limits: FrameLimits,
    private readonly onViolation: (reason: string) => void,
  ) {
    this.lines = new LineSplitter(onLine, limits.maxLineBytes, (bytes) =>
      this.fail(`line of ${bytes} bytes exceeds ${limits.maxLineBytes}`),
    );
  }

  push(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length && !this.failed) {
      if (this.prefixFill > 0 || (!this.midLine && chunk[at] === BINARY_FRAME_MARK)) {
        at = this.readFrame(chunk, at);
      } else {
        // Every line up to the next frame goes to the line splitter in one piece: a frame starts at
        // a 0x00 after a line's end, and JSON text holds no raw 0x00 (one inside a line stays in it).
        const zero = chunk.indexOf(BINARY_FRAME_MARK, at);
        let end = chunk.length;
        if (zero !== -1) {
          const nl = chunk[zero - 1] === 10 ? zero - 1 : chunk.indexOf(10, zero);
          end = nl === -1 ? chunk.length : nl + 1;
        }
        this.lines.push(chunk.subarray(at, end));
        this.midLine = chunk[end - 1] !== 10;
        at = end;
      }
    }
  }

  /** Consumes bytes of the current binary frame from `chunk` at `at`; returns where it stopped. */
  private readFrame(chunk: Uint8Array, at: number): number {
    if (this.prefixFill < BINARY_FRAME_PREFIX_BYTES) {
      const take = Math.min(BINARY_FRAME_PREFIX_BYTES - this.prefixFill, chunk.length - at);
      this.prefix.set(chunk.subarray(at, at + take), this.prefixFill);
      this.prefixFill += take;
      at += take;
      if (this.prefixFill < BINARY_FRAME_PREFIX_BYTES) return at;
      const headerBytes = this.prefix.readUInt32BE(1);
      const payloadBytes = this.prefix.readUInt32BE(5);
      if (headerBytes > this.limits.maxHeaderBytes || payloadBytes > this.limits.maxPayloadBytes) {
        this.fail(`binary frame of ${headerBytes}+${payloadBytes} bytes exceeds the limits`);
        return chunk.length;
      }
      this.header = Buffer.allocUnsafe(headerBytes);
      this.headerFill = 0;
      this.payloadLeft = payloadBytes;
    }
    const header = this.header as Buffer;
    if (this.headerFill < header.length) {
      const take = Math.min(header.length - this.headerFill, chunk.length - at);
      header.set(chunk.subarray(at, at + take), this.headerFill);
      this.headerFill += take;
      at += take;
      if (this.headerFill < header.length) return at;
      this.headerText = header.toString("utf8");
      if (this.payloadLeft === 0) this.onPayload(this.headerText, new Uint8Array(0));
    }
    if (this.payloadLeft > 0 && at < chunk.length) {
      const take = Math.min(this.payloadLeft, chunk.length - at);
      this.payloadLeft -= take;
      this.onPayload(this.headerText, chunk.subarray(at, at + take));
      at += take;
    }
    if (this.payloadLeft === 0) {
      this.prefixFill = 0;
      this.header = undefined;
    }
    return at;
  }

  private fail(reason: string): void {
    if (this.failed) return;
    this.failed = true;
    this.onViolation(reason);
  }
}
