import type { UsageMeter } from "./dialects/dialect.ts";

/**
 * The provider's response body, passed on chunk by chunk exactly as it arrives: nothing is read from the
 * provider before the client asks for more (backpressure), the meter sees each chunk on the way, and a
 * client that goes away cancels the provider's body too. `done` runs once, when the body ended or was
 * cancelled.
 */
export function meteredBody(
  upstream: ReadableStream<Uint8Array>,
  meter: UsageMeter,
  done: (outcome: "complete" | "cancelled" | "failed") => void,
): ReadableStream<Uint8Array> {
  const reader = upstream.getReader();
  let finished = false;
  const finish = (outcome: "complete" | "cancelled" | "failed") => {
    if (finished) return;
    finished = true;
    done(outcome);
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let result: Awaited<ReturnType<typeof reader.read>>;
        try {
          result = await reader.read();
        } catch (error) {
          finish("failed");
          controller.error(error);
          return;
        }
        if (result.done) {
          finish("complete");
          controller.close();
          return;
        }
        meter.push(result.value);
        controller.enqueue(result.value);
      },
      async cancel(reason) {
        finish("cancelled");
        await reader.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
}
