import { z } from "zod";

/**
 * Binary data frames on the runner socket (PROTOCOL.md §3.3): file bytes travel raw beside the
 * JSON lines instead of base64 inside them. The byte layout is src/shared/frame-splitter.ts; what
 * a frame's header says, and how big it may be, is fixed here.
 */
export const MAX_DATA_FRAME_HEADER_BYTES = 4096;
/** Payload of one frame; a transfer is any number of frames. */
export const MAX_DATA_FRAME_PAYLOAD_BYTES = 1024 * 1024;

export const StreamId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,128}$/, "stream ids are 1-128 letters, digits, '_' or '-'");

/** The JSON header of a data frame: which transfer its payload belongs to. */
export const DataFrameHeader = z.strictObject({ stream_id: StreamId });
export type DataFrameHeader = z.infer<typeof DataFrameHeader>;

let lastHeader: { text: string; parsed: DataFrameHeader } | undefined;

/**
 * The validated header of a data frame, or undefined when it is not one. A frame's payload comes
 * in several pieces with the same header text: the last one parsed is remembered.
 */
export function parseDataFrameHeader(text: string): DataFrameHeader | undefined {
  if (lastHeader?.text === text) return lastHeader.parsed;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = DataFrameHeader.safeParse(raw);
  if (!parsed.success) return undefined;
  lastHeader = { text, parsed: parsed.data };
  return parsed.data;
}
