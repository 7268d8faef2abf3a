import type { Http2ServerRequest, Http2ServerResponse, OutgoingHttpHeaders } from "node:http2";

type Http2Handler = (request: Http2ServerRequest, response: Http2ServerResponse) => void;

const GRPC_INTERNAL = "13";
const GRPC_INVALID_ARGUMENT = "3";
/** connect-es's message for a request payload that is not valid protobuf (protocol/serialization.js). */
const PARSE_FAILURE_PREFIX = "parse binary:";

function isParseFailure(trailers: OutgoingHttpHeaders): boolean {
  const message = trailers["grpc-message"];
  if (trailers["grpc-status"] !== GRPC_INTERNAL || typeof message !== "string") return false;
  try {
    return decodeURIComponent(message).startsWith(PARSE_FAILURE_PREFIX);
  } catch {
    return false;
  }
}

/**
 * connect-es answers a request whose payload does not decode as the RPC's input message with INTERNAL.
 * The fault is the client's, and this service promises that malformed requests never get INTERNAL, so the
 * status is rewritten to INVALID_ARGUMENT as the trailers are written.
 */
export function undecodableRequestsAsInvalidArgument(handler: Http2Handler): Http2Handler {
  return (request, response) => {
    const addTrailers = response.addTrailers.bind(response);
    response.addTrailers = (trailers: OutgoingHttpHeaders) => {
      if (isParseFailure(trailers)) trailers["grpc-status"] = GRPC_INVALID_ARGUMENT;
      addTrailers(trailers);
    };
    handler(request, response);
  };
}
