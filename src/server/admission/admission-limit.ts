import { availableParallelism } from "node:os";
import type { Config } from "../../config/schema.ts";

/**
 * Generating sessions per core when the limit is not configured. Measured on a 2-core machine
 * (BENCHMARKS.md "End-to-end streaming"): with the gateway merging deltas under load and pi's provider
 * code warmed before its first prompt, pi, the runner and serve spend ~0.5-0.6 ms of CPU per streamed
 * delta, so a session streaming 100 deltas/s takes ~5-6 % of a core. 50 sessions at once with 30 of
 * them admitted kept the added p99 under 260 ms and the median first delta under 0.8 s; unguarded,
 * the first turns' p99 passed 1 s; with 20 admitted, the queue's wait put the median first delta at 2.9 s.
 */
export const SESSIONS_PER_CORE = 15;

/** The configured `[admission] max_generating_sessions`, else the default from the cores (0 = unlimited). */
export function admissionLimit(config: Config, cores = availableParallelism()): number {
  return config.admission.max_generating_sessions ?? SESSIONS_PER_CORE * Math.max(1, cores);
}
