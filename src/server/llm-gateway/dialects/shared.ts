import { z } from "zod";
import type { DialectRequest } from "./dialect.ts";

/** The token of an `Authorization: Bearer <token>` header, if the request has one. */
export function bearerToken(request: Request): string | undefined {
  const match = /^Bearer\s+(\S.*)$/i.exec(request.headers.get("authorization") ?? "");
  return match?.[1]?.trim() || undefined;
}

/** The value of a header, or undefined when it is absent or empty. */
export function headerValue(request: Request, name: string): string | undefined {
  return request.headers.get(name) || undefined;
}

const ModelInBody = z.looseObject({ model: z.string().min(1) });

/** `body.model` (OpenAI and Anthropic name the model in the JSON body). */
export function bodyModel(request: DialectRequest): string | undefined {
  const parsed = ModelInBody.safeParse(request.body);
  return parsed.success ? parsed.data.model : undefined;
}

/**
 * OpenAI's error envelope (Chat Completions and Responses alike). pi's OpenAI client (the `openai` SDK)
 * reports it as `"<status> <message>"`.
 */
export function openAiError(status: number, message: string, code: string): Response {
  const type = status >= 500 ? "server_error" : "invalid_request_error";
  return Response.json({ error: { message, type, param: null, code } }, { status });
}
