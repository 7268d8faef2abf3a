import type { DeltaMerger } from "./delta-merger.ts";

const WINDOW_PASSED = Symbol("window passed");

type ReadResult = Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>["read"]>>;

/**
 * The provider's body through a `DeltaMerger`: read only when the client asks for more (backpressure),
 * held pieces sent when their window has passed even if the provider sends nothing more, and a client
 * that goes away cancels the provider's body. `windowMs` is asked at each chunk, so merging starts and
 * stops with the load while a stream runs.
 */
export function mergedDeltaBody(
  upstream: ReadableStream<Uint8Array>,
  merger: DeltaMerger,
  windowMs: () => number,
): ReadableStream<Uint8Array> {
  const reader = upstream.getReader();
  let nextRead: Promise<ReadResult> | undefined;
  let lastWindow = 0;
  const send = (controller: ReadableStreamDefaultController<Uint8Array>, out: Buffer[]) => {
    if (out.length === 1) controller.enqueue(out[0] as Buffer);
    else if (out.length > 1) controller.enqueue(Buffer.concat(out));
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          const due = merger.dueAt(lastWindow);
          if (due !== undefined && performance.now() >= due) {
            send(controller, merger.flush(performance.now()));
            return;
          }
          const read = nextRead ?? reader.read();
          nextRead = read;
          let result: ReadResult | typeof WINDOW_PASSED;
          try {
            result = due === undefined ? await read : await raceWindow(read, due - performance.now());
          } catch (error) {
            controller.error(error);
            return;
          }
          if (result === WINDOW_PASSED) continue;
          nextRead = undefined;
          if (result.done) {
            send(controller, merger.end(performance.now()));
            controller.close();
            return;
          }
          lastWindow = windowMs();
          const out = merger.take(result.value, performance.now(), lastWindow);
          if (out.length > 0) {
            send(controller, out);
            return;
          }
        }
      },
      async cancel(reason) {
        await reader.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
}

/** The read's result, or WINDOW_PASSED after `ms` (the read stays pending for the next pull). */
function raceWindow<T>(read: Promise<T>, ms: number): Promise<T | typeof WINDOW_PASSED> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const passed = new Promise<typeof WINDOW_PASSED>((resolve) => {
    timer = setTimeout(() => resolve(WINDOW_PASSED), Math.max(0, ms));
  });
  return Promise.race([read, passed]).finally(() => clearTimeout(timer));
}
