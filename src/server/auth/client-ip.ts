import type { Context } from "hono";

interface RequestIpSource {
  requestIP(req: Request): { address: string } | null;
}

function isRequestIpSource(value: unknown): value is RequestIpSource {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Partial<RequestIpSource>).requestIP === "function"
  );
}

/**
 * The peer address of the TCP connection, from the Bun server passed as `app.fetch(req, server)`.
 * Proxy headers are not trusted (they are client-controlled). Without a server (in-process requests),
 * every request shares the key "unknown", which only makes limits stricter.
 */
export function clientIp(c: Context): string {
  const server: unknown = c.env;
  if (!isRequestIpSource(server)) return "unknown";
  return server.requestIP(c.req.raw)?.address ?? "unknown";
}
