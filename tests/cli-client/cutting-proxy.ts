/**
 * A TCP proxy in front of a server whose open connections a test can cut at once, as a network
 * failure would: the client sees its connection reset, the server its peer gone.
 */
import type { Socket } from "bun";

/** One direction of a connection: bytes the socket has not taken yet wait here until `drain`. */
class Outbox {
  socket: Socket<unknown> | undefined;
  private queue: Uint8Array[] = [];

  push(chunk: Uint8Array): void {
    this.queue.push(new Uint8Array(chunk));
    this.flush();
  }

  flush(): void {
    while (this.socket && this.queue.length > 0) {
      const head = this.queue[0] as Uint8Array;
      const written = this.socket.write(head);
      if (written < head.length) {
        this.queue[0] = head.subarray(Math.max(written, 0));
        return;
      }
      this.queue.shift();
    }
  }
}

interface Pair {
  toClient: Outbox;
  toUpstream: Outbox;
  client: Socket<Pair>;
  upstream?: Socket<Pair>;
}

export interface CuttingProxy {
  url: string;
  /** Connections made through the proxy so far. */
  connections: () => number;
  /** Closes every open connection, both sides. */
  cut: () => void;
  stop: () => void;
}

export function startCuttingProxy(targetPort: number): CuttingProxy {
  const open = new Set<Pair>();
  let made = 0;
  const listener = Bun.listen<Pair>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        made += 1;
        const pair: Pair = { client, toClient: new Outbox(), toUpstream: new Outbox() };
        pair.toClient.socket = client as Socket<unknown>;
        client.data = pair;
        open.add(pair);
        void Bun.connect<Pair>({
          hostname: "127.0.0.1",
          port: targetPort,
          data: pair,
          socket: {
            open(upstream) {
              pair.upstream = upstream;
              pair.toUpstream.socket = upstream as Socket<unknown>;
              pair.toUpstream.flush();
            },
            data: (_upstream, chunk) => pair.toClient.push(chunk),
            drain: () => pair.toUpstream.flush(),
            close() {
              open.delete(pair);
              pair.client.end();
            },
          },
        });
      },
      data: (client, chunk) => client.data.toUpstream.push(chunk),
      drain: (client) => client.data.toClient.flush(),
      close(client) {
        open.delete(client.data);
        client.data.upstream?.end();
      },
    },
  });
  return {
    url: `http://127.0.0.1:${listener.port}`,
    connections: () => made,
    cut: () => {
      for (const pair of [...open]) {
        open.delete(pair);
        pair.client.terminate();
        pair.upstream?.terminate();
      }
    },
    stop: () => listener.stop(true),
  };
}
