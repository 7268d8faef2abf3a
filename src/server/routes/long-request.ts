import type { Server } from "bun";
import type { Context } from "hono";

/**
 * Lifts Bun's idle cut-off (10 s) for one request: an event stream stays quiet between heartbeats,
 * and a command (an abort waits for its turn's end) may take longer than that before it answers.
 * Commands keep their own timeouts (PROTOCOL.md §2.6).
 */
export function keepRequestOpen(c: Context): void {
  // app.fetch(req, server): Hono's env is the Bun server.
  const server = c.env as Partial<Pick<Server<unknown>, "timeout">> | undefined;
  if (typeof server?.timeout === "function") server.timeout(c.req.raw, 0);
}
