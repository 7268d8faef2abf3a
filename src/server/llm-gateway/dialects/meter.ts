import { z } from "zod";
import type { TokenUsage, UsageMeter } from "./dialect.ts";

/** One server-sent event: its `event` field (undefined when there was none) and its data lines joined by LF. */
export interface SseEvent {
  event: string | undefined;
  data: string;
}

/**
 * What a dialect knows about where its provider reports usage. The meter feeds it whole SSE events or
 * the whole parsed JSON body; it keeps the latest figures and reports them at the end.
 */
export interface UsageReader {
  onEvent(event: SseEvent): void;
  onJson(body: unknown): void;
  result(): TokenUsage | undefined;
}

/**
 * A single SSE line or a JSON body longer than this (in UTF-16 code units) is not read: a usage record
 * is small, but OpenAI's `response.completed` repeats the whole response, so the bound is generous.
 */
export const MAX_METERED_LINE = 16 * 1024 * 1024;
export const MAX_METERED_JSON = 32 * 1024 * 1024;

/** A token count as providers send it; anything else is treated as not reported. */
export const TokenCount = z.number().int().nonnegative();

/** Runs `fn`, swallowing anything it throws: a meter never throws at the gateway. */
function quietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // A malformed record is skipped; the meter reports what it could read.
  }
}

/** `JSON.parse` that returns undefined instead of throwing. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

type Mode = "sniff" | "sse" | "json" | "failed";

function modeFor(contentType: string | null): Mode {
  const type = contentType?.toLowerCase() ?? "";
  if (type.includes("text/event-stream")) return "sse";
  if (type.includes("json")) return "json";
  return "sniff";
}

/**
 * An incremental reader of a response body: splits SSE into events (LF, CR or CRLF line ends, also when
 * a chunk ends between CR and LF), or collects a JSON body and parses it at the end. Bytes are decoded
 * as they arrive (a UTF-8 sequence may straddle chunks); nothing is held back from the caller.
 */
class BodyMeter implements UsageMeter {
  private mode: Mode;
  private readonly decoder = new TextDecoder("utf-8");
  private finished = false;
  // SSE state.
  private line = "";
  private lineTooLong = false;
  private afterCr = false;
  private eventName: string | undefined;
  private data: string[] = [];
  private dataLength = 0;
  private eventTooLong = false;
  // JSON state.
  private json = "";

  constructor(
    contentType: string | null,
    private readonly reader: UsageReader,
  ) {
    this.mode = modeFor(contentType);
  }

  push(chunk: Uint8Array): void {
    if (this.finished || this.mode === "failed") return;
    quietly(() => this.take(this.decoder.decode(chunk, { stream: true })));
  }

  finish(): TokenUsage | undefined {
    if (!this.finished) {
      this.finished = true;
      quietly(() => {
        if (this.mode !== "failed") this.take(this.decoder.decode());
        this.end();
      });
    }
    let usage: TokenUsage | undefined;
    quietly(() => {
      usage = this.reader.result();
    });
    return usage;
  }

  private take(text: string): void {
    if (text.length === 0) return;
    if (this.mode === "sniff") {
      const first = /\S/.exec(text)?.[0];
      if (first === undefined) return;
      this.mode = first === "{" || first === "[" ? "json" : "sse";
    }
    if (this.mode === "json") this.takeJson(text);
    else if (this.mode === "sse") this.takeSse(text);
  }

  private takeJson(text: string): void {
    if (this.json.length + text.length > MAX_METERED_JSON) {
      this.json = "";
      this.mode = "failed";
      return;
    }
    this.json += text;
  }

  private takeSse(text: string): void {
    let start = 0;
    if (this.afterCr) {
      this.afterCr = false;
      if (text.startsWith("\n")) start = 1;
    }
    const lineEnd = /[\r\n]/g;
    lineEnd.lastIndex = start;
    for (let match = lineEnd.exec(text); match; match = lineEnd.exec(text)) {
      const end = match.index;
      this.appendLine(text.slice(start, end));
      this.endLine();
      start = end + 1;
      if (text[end] === "\r") {
        if (start === text.length) this.afterCr = true;
        else if (text[start] === "\n") start += 1;
      }
      lineEnd.lastIndex = start;
    }
    this.appendLine(text.slice(start));
  }

  private appendLine(piece: string): void {
    if (piece.length === 0 || this.lineTooLong) return;
    if (this.line.length + piece.length > MAX_METERED_LINE) {
      this.line = "";
      this.lineTooLong = true;
      return;
    }
    this.line += piece;
  }

  private endLine(): void {
    const line = this.line;
    const tooLong = this.lineTooLong;
    this.line = "";
    this.lineTooLong = false;
    if (tooLong) {
      // The event this line belonged to cannot be read whole: skip it.
      this.eventTooLong = true;
      return;
    }
    if (line === "") {
      this.dispatch();
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") {
      this.eventName = value;
    } else if (field === "data") {
      if (this.dataLength + value.length > MAX_METERED_LINE) {
        this.eventTooLong = true;
        return;
      }
      this.data.push(value);
      this.dataLength += value.length;
    }
  }

  private dispatch(): void {
    const event: SseEvent = { event: this.eventName, data: this.data.join("\n") };
    const skip = this.eventTooLong || (this.data.length === 0 && this.eventName === undefined);
    this.eventName = undefined;
    this.data = [];
    this.dataLength = 0;
    this.eventTooLong = false;
    if (!skip) quietly(() => this.reader.onEvent(event));
  }

  private end(): void {
    if (this.mode === "sse") {
      // A last line without its line end, then a last event without its blank line.
      if (this.line.length > 0 || this.lineTooLong) this.endLine();
      this.dispatch();
    } else if (this.mode === "json") {
      const body = parseJson(this.json);
      this.json = "";
      if (body !== undefined) quietly(() => this.reader.onJson(body));
    }
  }
}

/** A meter for one response body whose usage `reader` knows how to find. */
export function usageMeter(contentType: string | null, reader: UsageReader): UsageMeter {
  return new BodyMeter(contentType, reader);
}

/** A regular expression that finds `"<key>": {` in JSON text. */
export function objectKey(key: string): RegExp {
  return new RegExp(`"${key}"\\s*:\\s*\\{`);
}

/**
 * The JSON payload of an SSE event whose data matches `needle` (a cheap filter before parsing: most
 * events of a stream carry no usage object, and OpenAI sends `"usage": null` on every chunk).
 */
export function eventJson(event: SseEvent, needle: RegExp): unknown {
  return needle.test(event.data) ? parseJson(event.data) : undefined;
}
