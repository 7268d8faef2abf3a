/** The client's Server-Sent Events parser, fed byte chunks split where a network may split them. */
import { describe, expect, test } from "bun:test";
import { readSse, type SseMessage } from "../../src/client/sse-reader.ts";

async function parse(chunks: string[]): Promise<{ messages: SseMessage[]; chunksSeen: number }> {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
  let chunksSeen = 0;
  const messages: SseMessage[] = [];
  for await (const message of readSse(body, () => chunksSeen++)) messages.push(message);
  return { messages, chunksSeen };
}

describe("readSse", () => {
  test("id, event and data fields; comments are skipped but count as activity", async () => {
    const { messages, chunksSeen } = await parse([
      ": subscribed\n\n",
      'id: 7\ndata: {"seq":7}\n\n',
      ": ping\n\n",
      'event: queue\ndata: {"type":"queue"}\n\n',
    ]);
    expect(messages).toEqual([
      { id: "7", data: '{"seq":7}' },
      { event: "queue", data: '{"type":"queue"}' },
    ]);
    expect(chunksSeen).toBe(4);
  });

  test("a message split anywhere, CRLF split between chunks, data lines joined with LF", async () => {
    const { messages } = await parse([
      "id: 1\r",
      "\ndata: a",
      "b\r\ndata:c\r\n",
      "\r",
      "\nid: 2\ndata: d\n",
      "\n",
    ]);
    expect(messages).toEqual([
      { id: "1", data: "ab\nc" },
      { id: "2", data: "d" },
    ]);
  });

  test("an unfinished message at the end of the stream is not delivered", async () => {
    const { messages } = await parse(['id: 3\ndata: {"seq":3}\n\n', 'id: 4\ndata: {"seq":4}\n']);
    expect(messages).toEqual([{ id: "3", data: '{"seq":3}' }]);
  });
});
