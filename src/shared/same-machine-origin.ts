/**
 * The origin a listener on `host:port` is reached at from the same machine (pi reaching serve's
 * gateway, `oqto status` probing serve): a wildcard listener on loopback, a specific address at that
 * address.
 */
export function sameMachineOrigin(host: string, port: number): string {
  if (host === "0.0.0.0" || host === "") return `http://127.0.0.1:${port}`;
  if (host === "::") return `http://[::1]:${port}`;
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}
