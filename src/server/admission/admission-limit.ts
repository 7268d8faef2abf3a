import { availableParallelism } from "node:os";
import type { Config } from "../../config/schema.ts";

/**
 * Generating sessions per core when the limit is not configured. Measured on a 2-core machine
 * (BENCHMARKS.md "End-to-end streaming"): with the gateway merging deltas under load, pi, the runner
 * and serve spend ~0.5 ms of CPU per streamed delta, so a session streaming 100 deltas/s takes ~5 % of
 * a core; 20 sessions on 2 cores stayed at ~60 ms of added p99 delta latency (a session's first turn,
 * with pi's one-time costs, at ~230 ms) and 50 saturated both cores. 10 per core keeps that margin.
 */
export const SESSIONS_PER_CORE = 10;

/** The configured `[admission] max_generating_sessions`, else the default from the cores (0 = unlimited). */
export function admissionLimit(config: Config, cores = availableParallelism()): number {
  return config.admission.max_generating_sessions ?? SESSIONS_PER_CORE * Math.max(1, cores);
}
