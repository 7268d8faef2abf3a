/** A Server-Sent Events reader for tests: records every message and comment, waits for messages. */
export interface SseMessage {
  id?: string;
  event?: string;
  data: string;
  /** `data` parsed as JSON. */
  json: Record<string, unknown>;
}

export class SseClient {
  readonly messages: SseMessage[] = [];
  readonly comments: string[] = [];
  /** Resolves when the server ended the stream (or the client closed it). */
  readonly ended: Promise<void>;
  private readonly abort = new AbortController();
  private waiters: Array<{ test: (m: SseMessage) => boolean; resolve: (m: SseMessage) => void }> = [];

  private constructor(readonly response: Response) {
    this.ended = this.read().catch(() => {});
  }

  /** Opens the stream; a non-2xx answer rejects with its status and body. */
  static async open(url: string, headers: Record<string, string>): Promise<SseClient> {
    const abort = new AbortController();
    const response = await fetch(url, { headers, signal: abort.signal });
    if (!response.ok) throw new Error(`SSE ${url}: ${response.status} ${await response.text()}`);
    const client = new SseClient(response);
    client.abort.signal.addEventListener("abort", () => abort.abort());
    return client;
  }

  /** Messages carrying canonical events of a session, in order. */
  events(): Array<Record<string, unknown>> {
    return this.messages.filter((m) => m.event === undefined).map((m) => m.json);
  }

  waitFor(test: (m: SseMessage) => boolean, timeoutMs = 30_000): Promise<SseMessage> {
    const seen = this.messages.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const tail = JSON.stringify(this.messages.slice(-3).map((m) => m.data)).slice(0, 1500);
        reject(new Error(`timed out waiting for an SSE message; last: ${tail}`));
      }, timeoutMs);
      this.waiters.push({
        test,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  /** Waits for a canonical event by name. */
  event(name: string, timeoutMs = 30_000): Promise<SseMessage> {
    return this.waitFor((m) => m.json.event === name, timeoutMs);
  }

  close(): void {
    this.abort.abort();
  }

  private async read(): Promise<void> {
    const body = this.response.body;
    if (!body) return;
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of body) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        this.take(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
  }

  private take(block: string): void {
    const message: Partial<SseMessage> = {};
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) this.comments.push(line.slice(1).trim());
      else if (line.startsWith("id: ")) message.id = line.slice(4);
      else if (line.startsWith("event: ")) message.event = line.slice(7);
      else if (line.startsWith("data: ")) data.push(line.slice(6));
      else throw new Error(`unexpected SSE line: ${JSON.stringify(line)}`);
    }
    if (data.length === 0) return;
    const full = { ...message, data: data.join("\n"), json: JSON.parse(data.join("\n")) } as SseMessage;
    this.messages.push(full);
    this.waiters = this.waiters.filter((w) => {
      if (!w.test(full)) return true;
      w.resolve(full);
      return false;
    });
  }
}
