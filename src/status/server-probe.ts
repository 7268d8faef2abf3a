import { HealthResponse } from "../protocol/rest.ts";

const PROBE_TIMEOUT_MS = 3_000;

export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export type Probe<T> = { ok: true; value: T } | { ok: false; error: string };

function failure(error: unknown): { ok: false; error: string } {
  const name = (error as Error).name;
  if (name === "TimeoutError") return { ok: false, error: `no answer within ${PROBE_TIMEOUT_MS} ms` };
  return { ok: false, error: (error as Error).message };
}

/** `GET /api/health`: whether the server answers, and its version and mode. */
export async function probeHealth(baseUrl: string): Promise<Probe<HealthResponse>> {
  try {
    const res = await fetch(`${baseUrl}/api/health`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    if (res.status !== 200) return { ok: false, error: `GET /api/health answered ${res.status}` };
    const health = HealthResponse.safeParse(await res.json());
    return health.success
      ? { ok: true, value: health.data }
      : { ok: false, error: "GET /api/health answered something that is not Oqto's health" };
  } catch (error) {
    return failure(error);
  }
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?[ \t]+(\S+)(?:[ \t]+-?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

const unescapeLabel = (value: string) =>
  value.replace(/\\(.)/g, (_, char: string) => (char === "n" ? "\n" : char));

/** The samples of a Prometheus text exposition (comments skipped); a line that is no sample is an error. */
export function readSamples(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const match = SAMPLE_LINE.exec(line);
    const value = match
      ? Number(match[3]?.replace(/^\+Inf$/, "Infinity").replace(/^-Inf$/, "-Infinity"))
      : Number.NaN;
    if (!match || (Number.isNaN(value) && match[3] !== "NaN"))
      throw new Error(`not a Prometheus sample line: ${line.slice(0, 120)}`);
    const labels: Record<string, string> = {};
    for (const [, name, raw] of (match[2] ?? "").matchAll(LABEL))
      labels[name as string] = unescapeLabel(raw ?? "");
    samples.push({ name: match[1] as string, labels, value });
  }
  return samples;
}

/** `GET /api/metrics` with the metrics token. */
export async function scrapeMetrics(baseUrl: string, token: string): Promise<Probe<MetricSample[]>> {
  try {
    const res = await fetch(`${baseUrl}/api/metrics`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    if (res.status !== 200) {
      const why =
        res.status === 401 ? " (the server holds another metrics token: restart it after a change)" : "";
      return { ok: false, error: `GET /api/metrics answered ${res.status}${why}` };
    }
    return { ok: true, value: readSamples(await res.text()) };
  } catch (error) {
    return failure(error);
  }
}
