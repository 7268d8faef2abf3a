/** One Server-Sent Events message (comments are not messages). */
export interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

/** The field of one SSE line: `name: value` (one optional space after the colon), or a bare name. */
function field(line: string): [string, string] {
  const colon = line.indexOf(":");
  if (colon < 0) return [line, ""];
  const value = line.slice(colon + 1);
  return [line.slice(0, colon), value.startsWith(" ") ? value.slice(1) : value];
}

/**
 * Reads an event stream (the WHATWG rules: LF, CRLF or CR line ends, `:` comments, data lines
 * joined with LF, a message ends at a blank line). `onBytes` is told of every chunk, heartbeats
 * included, so that a caller can tell a quiet stream from a dead one.
 */
export async function* readSse(
  body: ReadableStream<Uint8Array>,
  onBytes: () => void = () => {},
): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  let buffer = "";
  let message: { id?: string; event?: string; data: string[] } = { data: [] };
  for await (const chunk of body) {
    onBytes();
    let text = buffer + decoder.decode(chunk, { stream: true });
    // A CR at the very end may be the first half of a CRLF: hold it until the next chunk.
    const heldCr = text.endsWith("\r");
    if (heldCr) text = text.slice(0, -1);
    const lines = text.split(/\r\n|\r|\n/);
    buffer = (lines.pop() ?? "") + (heldCr ? "\r" : "");
    for (const line of lines) {
      if (line === "") {
        if (message.data.length > 0) {
          yield {
            data: message.data.join("\n"),
            ...(message.id === undefined ? {} : { id: message.id }),
            ...(message.event === undefined ? {} : { event: message.event }),
          };
        }
        message = { data: [] };
        continue;
      }
      if (line.startsWith(":")) continue;
      const [name, value] = field(line);
      if (name === "data") message.data.push(value);
      else if (name === "id") message.id = value;
      else if (name === "event") message.event = value;
    }
  }
}
