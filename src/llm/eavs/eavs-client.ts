/**
 * Oqto's client of eavs' admin and discovery routes (EAVS.md §3-§7). Every answer is validated with zod.
 * Errors: eavs unreachable or too slow → `SERVICE_UNAVAILABLE`; an admin-API refusal `{error, code}`, an
 * unexpected status or a body that is not what EAVS.md documents → `BAD_GATEWAY` (the eavs `code`, when
 * there is one, in `details.eavs_code`). The master key appears in no message; the client logs nothing.
 */
import { z } from "zod";
import { ApiError, zodIssueDetails } from "../../server/http-errors.ts";
import {
  AdminError,
  CreatedKey,
  EavsPermissions,
  KeyInfo,
  ProviderDetail,
  QuotaSnapshot,
  UsageRow,
} from "./eavs-schemas.ts";

/** The part of `fetch` the client uses (tests and the server can pass their own). */
export type EavsFetch = (url: string, init: RequestInit) => Promise<Response>;

export interface EavsClientOptions {
  /** `eavs.base_url`, e.g. `http://127.0.0.1:41800`. */
  baseUrl: string;
  /** `eavs.master_key`, already resolved (not `env:VAR`). */
  masterKey: string;
  fetch?: EavsFetch;
  /** Per call, connecting and reading the answer together. */
  timeoutMs?: number;
}

export const DEFAULT_EAVS_TIMEOUT_MS = 10_000;

/** `POST /admin/keys` as Oqto sends it (EAVS.md §6). */
export const CreateKeyRequest = z.strictObject({
  name: z.string().min(1).max(200),
  permissions: EavsPermissions,
  metadata: z.record(z.string(), z.unknown()),
  expires_at: z.iso.datetime({ offset: true }).optional(),
});
export type CreateKeyRequest = z.infer<typeof CreateKeyRequest>;

const BaseUrl = z.url({ protocol: /^https?$/ });
/** How much of a non-JSON error body goes into a message. */
const BODY_SNIPPET_CHARS = 200;

interface Call {
  method: "GET" | "POST" | "DELETE";
  path: string;
  /** Sends the master key. */
  admin: boolean;
  body?: unknown;
}

interface Answer {
  status: number;
  text: string;
}

/** The eavs `code` of an error from this client, if eavs sent one. */
export function eavsErrorCode(error: unknown): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  const code = error.details?.eavs_code;
  return typeof code === "string" ? code : undefined;
}

export class EavsClient {
  /** Without a trailing slash. */
  readonly baseUrl: string;
  readonly #masterKey: string;
  readonly #fetch: EavsFetch;
  readonly #timeoutMs: number;

  constructor(options: EavsClientOptions) {
    if (!BaseUrl.safeParse(options.baseUrl).success) {
      throw new Error(`eavs base URL is not an http(s) URL: ${JSON.stringify(options.baseUrl)}`);
    }
    if (options.masterKey.length === 0) throw new Error("eavs master key is empty");
    const timeoutMs = options.timeoutMs ?? DEFAULT_EAVS_TIMEOUT_MS;
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
      throw new Error(`eavs timeout must be a positive number of milliseconds, got ${timeoutMs}`);
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#masterKey = options.masterKey;
    this.#fetch = options.fetch ?? ((url, init) => fetch(url, init));
    this.#timeoutMs = timeoutMs;
  }

  /** `GET /health`: resolves when eavs is up. */
  async health(): Promise<void> {
    await this.#call({ method: "GET", path: "/health", admin: false });
  }

  /** `POST /admin/keys`. The answer's `key` is the secret, returned only this once. */
  async createKey(request: CreateKeyRequest): Promise<CreatedKey> {
    const parsed = CreateKeyRequest.safeParse(request);
    if (!parsed.success) {
      throw new ApiError("BAD_REQUEST", "invalid eavs key request", zodIssueDetails(parsed.error));
    }
    return this.#json({ method: "POST", path: "/admin/keys", admin: true, body: parsed.data }, CreatedKey);
  }

  /** `GET /admin/keys`. */
  listKeys(): Promise<KeyInfo[]> {
    return this.#json({ method: "GET", path: "/admin/keys", admin: true }, z.array(KeyInfo));
  }

  /** `GET /admin/keys/{key_id_or_hash}`: permissions, `disabled` and the usage totals. */
  getKey(keyId: string): Promise<KeyInfo> {
    return this.#json({ method: "GET", path: keyPath(keyId), admin: true }, KeyInfo);
  }

  /** `DELETE /admin/keys/{key_id_or_hash}`: eavs disables the key (soft delete, 204). */
  async deleteKey(keyId: string): Promise<void> {
    await this.#call({ method: "DELETE", path: keyPath(keyId), admin: true });
  }

  /** `GET /admin/keys/{key_id_or_hash}/usage`: the last ≤100 usage rows. */
  keyUsage(keyId: string): Promise<UsageRow[]> {
    return this.#json({ method: "GET", path: `${keyPath(keyId)}/usage`, admin: true }, z.array(UsageRow));
  }

  /** `GET /providers/detail`: the input of `buildEavsModelsJson`. */
  providersDetail(): Promise<ProviderDetail[]> {
    return this.#json({ method: "GET", path: "/providers/detail", admin: false }, z.array(ProviderDetail));
  }

  /** `GET /admin/quotas`: the providers' own rate-limit headers last seen (reporting only). */
  quotas(): Promise<QuotaSnapshot[]> {
    return this.#json({ method: "GET", path: "/admin/quotas", admin: true }, z.array(QuotaSnapshot));
  }

  async #json<T extends z.ZodType>(call: Call, schema: T): Promise<z.output<T>> {
    const answer = await this.#call(call);
    const what = `${call.method} ${call.path}`;
    let raw: unknown;
    try {
      raw = JSON.parse(answer.text);
    } catch (error) {
      throw new ApiError(
        "BAD_GATEWAY",
        this.#redact(`eavs answered ${what} with malformed JSON: ${(error as Error).message}`),
        { eavs_status: answer.status },
      );
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((issue) => issue.path.map(String).join(".") || "(body)");
      throw new ApiError(
        "BAD_GATEWAY",
        this.#redact(`eavs answered ${what} with an unexpected body: ${[...new Set(fields)].join(", ")}`),
        { eavs_status: answer.status, ...zodIssueDetails(parsed.error) },
      );
    }
    return parsed.data;
  }

  /** One HTTP exchange; a non-2xx answer throws. */
  async #call(call: Call): Promise<Answer> {
    const what = `${call.method} ${call.path}`;
    const headers: Record<string, string> = { accept: "application/json" };
    if (call.admin) headers.authorization = `Bearer ${this.#masterKey}`;
    if (call.body !== undefined) headers["content-type"] = "application/json";
    const controller = new AbortController();
    let timedOut = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // A race rather than only the signal: an injected fetch may ignore it.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
        reject(new Error("timed out"));
      }, this.#timeoutMs);
    });
    const exchange = async (): Promise<Answer> => {
      const response = await this.#fetch(`${this.baseUrl}${call.path}`, {
        method: call.method,
        headers,
        ...(call.body !== undefined && { body: JSON.stringify(call.body) }),
        signal: controller.signal,
        // A redirect would be a misconfigured base URL; following it could carry the master key elsewhere.
        redirect: "manual",
      });
      return { status: response.status, text: await response.text() };
    };
    let answer: Answer;
    try {
      answer = await Promise.race([exchange(), deadline]);
    } catch (error) {
      if (timedOut) {
        throw new ApiError(
          "SERVICE_UNAVAILABLE",
          `eavs at ${this.baseUrl} did not answer ${what} within ${this.#timeoutMs} ms`,
        );
      }
      throw new ApiError(
        "SERVICE_UNAVAILABLE",
        this.#redact(`eavs at ${this.baseUrl} is unreachable (${what}: ${describe(error)})`),
      );
    } finally {
      clearTimeout(timer);
    }
    if (answer.status < 200 || answer.status > 299) throw this.#refusal(what, answer);
    return answer;
  }

  #refusal(what: string, answer: Answer): ApiError {
    let raw: unknown;
    try {
      raw = JSON.parse(answer.text);
    } catch {
      raw = undefined;
    }
    const admin = AdminError.safeParse(raw);
    if (admin.success) {
      return new ApiError(
        "BAD_GATEWAY",
        this.#redact(`eavs refused ${what} (HTTP ${answer.status}, ${admin.data.code}): ${admin.data.error}`),
        { eavs_code: admin.data.code, eavs_status: answer.status },
      );
    }
    const snippet = answer.text.trim().replace(/\s+/g, " ").slice(0, BODY_SNIPPET_CHARS);
    return new ApiError(
      "BAD_GATEWAY",
      this.#redact(`eavs answered ${what} with HTTP ${answer.status}${snippet ? `: ${snippet}` : ""}`),
      { eavs_status: answer.status },
    );
  }

  /** Belt and braces: eavs never echoes the master key, but nothing from it reaches a message with it. */
  #redact(message: string): string {
    return message.replaceAll(this.#masterKey, "[master key]");
  }
}

function keyPath(keyId: string): string {
  if (keyId.length === 0) throw new ApiError("BAD_REQUEST", "an eavs key id must not be empty");
  return `/admin/keys/${encodeURIComponent(keyId)}`;
}

/** A network error in a few words: Bun's `code` (e.g. "ConnectionRefused") or the message. */
function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as Error & { code?: unknown }).code;
    return typeof code === "string" && code.length > 0 ? code : error.message;
  }
  return String(error);
}
