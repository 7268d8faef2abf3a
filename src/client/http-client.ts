import type { z } from "zod";
import { RestError } from "../protocol/rest.ts";
import { ClientError, EXIT } from "./client-error.ts";

/**
 * Creating a session starts pi and a prompt waits for the runner to accept it: slow on a busy
 * host, but a server that says nothing for this long is not coming back.
 */
const REQUEST_TIMEOUT_MS = 120_000;

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** The message for a 401, when it does not mean a bad token (a login's wrong password). */
  unauthorized?: string;
  signal?: AbortSignal;
}

/** Why a fetch failed before any answer, in words (Bun's codes: ECONNREFUSED, ENOTFOUND, …). */
function networkReason(error: unknown): string {
  const { name, code, message } = error as { name?: string; code?: string; message?: string };
  if (name === "TimeoutError") return "no answer in time";
  if (code === "ECONNREFUSED") return "connection refused";
  if (code === "ENOTFOUND") return "host not found";
  if (code === "ECONNRESET") return "connection reset";
  return message ?? String(error);
}

/**
 * A small REST client for one server and token: every answer is checked against its schema from
 * src/protocol, every failure becomes one ClientError line with the exit code it stands for.
 */
export class OqtoClient {
  constructor(
    readonly server: string,
    private readonly token?: string,
  ) {}

  /** Sends a request and parses its JSON answer with `schema`. */
  async json<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    options: RequestOptions = {},
  ): Promise<z.output<S>> {
    const response = await this.send(method, path, options);
    const body = await this.readJson(method, path, response);
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ClientError(
        `unexpected answer to ${method} ${path} from ${this.server} (${issue?.path.join(".") || "body"}: ${issue?.message}); is the client older than the server?`,
      );
    }
    return parsed.data;
  }

  /** Sends a request whose success has no body (204). */
  async empty(method: string, path: string, options: RequestOptions = {}): Promise<void> {
    const response = await this.send(method, path, options);
    await response.body?.cancel();
  }

  /**
   * Sends a request and returns the successful response itself (an event stream); a failed one
   * throws like any other request. Without a signal of the caller's there is no deadline.
   */
  async open(path: string, headers: Record<string, string>, signal: AbortSignal): Promise<Response> {
    return this.send("GET", path, { headers, signal });
  }

  private async send(method: string, path: string, options: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { accept: "application/json", ...options.headers };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (options.body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(`${this.server}${path}`, {
        method,
        headers,
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        signal: options.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        redirect: "manual",
      });
    } catch (error) {
      if ((error as { name?: string }).name === "AbortError") throw error;
      throw new ClientError(`cannot reach ${this.server}: ${networkReason(error)}`, EXIT.unreachable);
    }
    if (response.ok) return response;
    throw await this.failure(method, path, response, options);
  }

  private async failure(
    method: string,
    path: string,
    response: Response,
    options: RequestOptions,
  ): Promise<ClientError> {
    const text = await response.text().catch(() => "");
    let parsed: RestError | undefined;
    try {
      parsed = RestError.parse(JSON.parse(text));
    } catch {
      parsed = undefined;
    }
    if (response.status === 401) {
      return new ClientError(
        options.unauthorized ?? `the server rejected the token (401): run oqto login`,
        EXIT.auth,
      );
    }
    if (!parsed) {
      return new ClientError(
        `${method} ${path}: ${this.server} answered ${response.status} ${response.statusText}, not as an Oqto server would`,
        EXIT.failed,
        response.status,
      );
    }
    return new ClientError(
      `${parsed.error} (${response.status} ${parsed.code})`,
      EXIT.failed,
      response.status,
    );
  }

  private async readJson(method: string, path: string, response: Response): Promise<unknown> {
    const text = await response.text();
    try {
      return JSON.parse(text);
    } catch {
      throw new ClientError(
        `${method} ${path}: ${this.server} answered ${response.status} with something other than JSON; is it an Oqto server?`,
      );
    }
  }
}
