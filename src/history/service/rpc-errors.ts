import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

export const invalidArgument = (message: string): ConnectError =>
  new ConnectError(message, Code.InvalidArgument);
export const notFound = (message: string): ConnectError => new ConnectError(message, Code.NotFound);

/**
 * Server interceptor: errors a handler did not classify (SQLite failures, bugs) leave as INTERNAL with
 * their message, and are logged, so a client never has to guess between UNKNOWN and INTERNAL.
 */
export function internalErrors(log: (message: string) => void): Interceptor {
  return (next) => async (request) => {
    try {
      return await next(request);
    } catch (error) {
      if (error instanceof ConnectError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      log(`${request.method.parent.name}.${request.method.name} failed: ${message}`);
      throw new ConnectError(message, Code.Internal, undefined, undefined, error);
    }
  };
}
