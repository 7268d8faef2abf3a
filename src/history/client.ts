import { connect } from "node:net";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { ReadService, SearchService, WriteService } from "../gen/hstry_service_pb.ts";
import { HSTRY_MAX_MESSAGE_BYTES } from "./limits.ts";

/** Where an hstry service listens: a unix socket path, or an `http://host:port` URL (TCP, cleartext). */
export type HistoryTarget = { socketPath: string } | { url: string };

export interface HistoryClient {
  search: Client<typeof SearchService>;
  write: Client<typeof WriteService>;
  read: Client<typeof ReadService>;
  /** Closes the HTTP/2 connection; calls after this open a new one. */
  close(): void;
}

/**
 * gRPC clients for the three hstry services over one HTTP/2 connection. Only the gRPC protocol is used:
 * an external hstry speaks neither Connect nor gRPC-web.
 */
export function createHistoryClient(target: HistoryTarget): HistoryClient {
  let baseUrl: string;
  if ("socketPath" in target) {
    baseUrl = "http://localhost";
  } else {
    const url = new URL(target.url);
    if (url.protocol !== "http:") throw new Error(`hstry url must be http://host:port, got ${target.url}`);
    baseUrl = url.origin;
  }
  const socketPath = "socketPath" in target ? target.socketPath : undefined;
  const sessionManager = new Http2SessionManager(
    baseUrl,
    {},
    socketPath === undefined ? {} : { createConnection: () => connect(socketPath) },
  );
  const transport = createGrpcTransport({
    baseUrl,
    sessionManager,
    readMaxBytes: HSTRY_MAX_MESSAGE_BYTES,
    writeMaxBytes: HSTRY_MAX_MESSAGE_BYTES,
  });
  return {
    search: createClient(SearchService, transport),
    write: createClient(WriteService, transport),
    read: createClient(ReadService, transport),
    close: () => sessionManager.abort(),
  };
}
