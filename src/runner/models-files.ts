import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { ProtocolError } from "../protocol/common.ts";
import type { Model } from "../protocol/message.ts";

export const MODELS_FILE = "models.json";
export const SETTINGS_FILE = "settings.json";

/** pi's HTTP client silently retries 5xx unless this is 0; Oqto wants every error as an event (PI-RPC.md §8). */
const PROVIDER_RETRY_OVERRIDE = { maxRetries: 0 };

const JsonObject = z.record(z.string(), z.unknown());

/** The parts of pi's `models.json` needed to list models; pi's defaults apply to omitted fields. */
const ModelsJson = z.object({
  providers: z.record(
    z.string(),
    z.looseObject({
      baseUrl: z.string().optional(),
      api: z.string().optional(),
      models: z
        .array(
          z.looseObject({
            id: z.string().min(1),
            name: z.string().optional(),
            api: z.string().optional(),
            baseUrl: z.string().optional(),
            reasoning: z.boolean().optional(),
            input: z.array(z.string()).optional(),
            contextWindow: z.number().positive().optional(),
            maxTokens: z.number().positive().optional(),
            cost: z.record(z.string(), z.number()).optional(),
          }),
        )
        .optional(),
    }),
  ),
});

/** Writes `content` to `file` atomically (temp file in the same dir, then rename) with `mode`. */
async function writeAtomically(file: string, content: string, mode: number): Promise<void> {
  const temp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await writeFile(temp, content, { mode });
    // writeFile's mode is masked by the umask; the models file holds API keys, so set it exactly.
    await chmod(temp, mode);
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw new ProtocolError("io_error", `cannot write ${file}: ${(error as Error).message}`);
  }
}

async function readJsonObject(file: string): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new ProtocolError("io_error", `cannot read ${file}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ProtocolError("io_error", `${file} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = JsonObject.safeParse(raw);
  if (!parsed.success) throw new ProtocolError("io_error", `${file} does not hold a JSON object`);
  return parsed.data;
}

/** Merges `settings` into pi's `settings.json` (top-level keys replaced) and forces the provider retry override. */
function mergeSettings(
  current: Record<string, unknown>,
  settings: Record<string, unknown>,
): Record<string, unknown> {
  const merged = { ...current, ...settings };
  const retry = JsonObject.safeParse(merged.retry).data ?? {};
  const provider = JsonObject.safeParse(retry.provider).data ?? {};
  merged.retry = { ...retry, provider: { ...provider, ...PROVIDER_RETRY_OVERRIDE } };
  return merged;
}

/**
 * Writes pi's `models.json` (0600: it holds provider keys) and merges `settings` into `settings.json`,
 * both atomically. `settings.json` always keeps `retry.provider.maxRetries: 0`.
 */
export async function writeModelsFiles(
  agentDir: string,
  modelsJson: Record<string, unknown>,
  settings: Record<string, unknown> = {},
): Promise<void> {
  const models = ModelsJson.safeParse(modelsJson);
  if (!models.success) {
    throw new ProtocolError(
      "invalid_request",
      `models_json is not a pi models.json: ${models.error.message}`,
    );
  }
  await mkdir(agentDir, { recursive: true, mode: 0o700 });
  await writeAtomically(join(agentDir, MODELS_FILE), `${JSON.stringify(modelsJson, null, 2)}\n`, 0o600);
  const settingsFile = join(agentDir, SETTINGS_FILE);
  const current = (await readJsonObject(settingsFile)) ?? {};
  await writeAtomically(
    settingsFile,
    `${JSON.stringify(mergeSettings(current, settings), null, 2)}\n`,
    0o600,
  );
}

/** Reads a pi `settings.json` (missing file → empty object). */
export async function readSettings(file: string): Promise<Record<string, unknown>> {
  return (await readJsonObject(file)) ?? {};
}

/**
 * Lists the models of `models.json` in `agentDir` as pi Model objects, with pi's defaults for omitted
 * fields, without starting pi. A missing file lists nothing.
 */
export async function readModels(agentDir: string): Promise<Model[]> {
  const file = join(agentDir, MODELS_FILE);
  const raw = await readJsonObject(file);
  if (!raw) return [];
  const parsed = ModelsJson.safeParse(raw);
  if (!parsed.success)
    throw new ProtocolError("io_error", `${file} is not a pi models.json: ${parsed.error.message}`);
  const models: Model[] = [];
  for (const [provider, config] of Object.entries(parsed.data.providers)) {
    for (const def of config.models ?? []) {
      const api = def.api ?? config.api;
      const baseUrl = def.baseUrl ?? config.baseUrl;
      // pi skips custom models it cannot reach (no api or base URL), so they are not listed either.
      if (!api || !baseUrl) continue;
      models.push({
        id: def.id,
        name: def.name ?? def.id,
        api,
        provider,
        baseUrl,
        reasoning: def.reasoning ?? false,
        input: def.input ?? ["text"],
        contextWindow: def.contextWindow ?? 128_000,
        maxTokens: def.maxTokens ?? 16_384,
        cost: def.cost ?? { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
      });
    }
  }
  return models;
}
