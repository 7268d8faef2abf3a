/** Exit codes of the client commands (`oqto run`, `oqto sessions`, `oqto login`), as their --help states them. */
export const EXIT = {
  ok: 0,
  /** The turn failed or was aborted by someone else, or the server refused the request. */
  failed: 1,
  usage: 2,
  /** Not logged in, or the server rejected the token. */
  auth: 3,
  /** The server could not be reached, or the connection was lost for good. */
  unreachable: 4,
  /** Ctrl-C: the turn was aborted on the server (128 + SIGINT). */
  interrupted: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure meant for the terminal: one line, and the exit code it stands for. */
export class ClientError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.failed,
    /** The HTTP status of the answer it came from, if any. */
    readonly status?: number,
  ) {
    super(message);
    this.name = "ClientError";
  }
}
