import { rmSync } from "node:fs";
import { createServer, type Http2Session } from "node:http2";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { ReadService, SearchService, WriteService } from "../../gen/hstry_service_pb.ts";
import { HSTRY_MAX_MESSAGE_BYTES } from "../limits.ts";
import { openHistoryDatabase } from "./database.ts";
import { createReadService } from "./read-service.ts";
import { internalErrors } from "./rpc-errors.ts";
import { createSearchService } from "./search-service.ts";
import { undecodableRequestsAsInvalidArgument } from "./undecodable-requests.ts";
import { listenOnUnixSocket } from "./unix-socket.ts";
import { createWriteService } from "./write-service.ts";

export interface HstryServiceOptions {
  socketPath: string;
  dbPath: string;
  log?: (message: string) => void;
}

export interface HstryService {
  readonly socketPath: string;
  readonly dbPath: string;
  /** Closes open connections, the listener and the DB, and removes the socket file. */
  stop(): Promise<void>;
}

/**
 * Starts the embedded history service: plain gRPC over HTTP/2 cleartext on a unix socket (0600),
 * backed by the SQLite DB at `dbPath`.
 */
export async function startHstryService(options: HstryServiceOptions): Promise<HstryService> {
  const log = options.log ?? ((message: string) => console.error(`[hstry] ${message}`));
  const db = openHistoryDatabase(options.dbPath);
  const handler = connectNodeAdapter({
    grpc: true,
    grpcWeb: false,
    connect: false,
    readMaxBytes: HSTRY_MAX_MESSAGE_BYTES,
    writeMaxBytes: HSTRY_MAX_MESSAGE_BYTES,
    interceptors: [internalErrors(log)],
    routes: (router) => {
      router.service(SearchService, createSearchService(db));
      router.service(WriteService, createWriteService(db));
      router.service(ReadService, createReadService(db));
    },
  });
  // Room for a full-size request to be buffered per connection (node's default is 10 MiB).
  const server = createServer(
    { maxSessionMemory: 2 * (HSTRY_MAX_MESSAGE_BYTES >> 20) },
    undecodableRequestsAsInvalidArgument(handler),
  );
  const sessions = new Set<Http2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  try {
    await listenOnUnixSocket(server, options.socketPath);
  } catch (error) {
    db.close();
    throw error;
  }

  let stopped: Promise<void> | undefined;
  const stop = async () => {
    for (const session of sessions) session.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(options.socketPath, { force: true });
    db.close();
  };
  return {
    socketPath: options.socketPath,
    dbPath: options.dbPath,
    stop: () => {
      stopped ??= stop();
      return stopped;
    },
  };
}
