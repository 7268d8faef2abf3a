/**
 * Headers a reverse proxy re-frames itself (hop-by-hop, framing), so it never copies them from one side
 * to the other. Shared by the runner's LLM bridge and the server's LLM gateway.
 */
export const RELAY_DROPPED_REQUEST_HEADERS: readonly string[] = [
  "host",
  "connection",
  "keep-alive",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "content-length",
  // Bun's fetch negotiates and decodes compression itself (content-encoding is dropped on the way back).
  "accept-encoding",
];

export const RELAY_DROPPED_RESPONSE_HEADERS: readonly string[] = [
  "connection",
  "keep-alive",
  "transfer-encoding",
  "content-length",
  "content-encoding",
];
