import { availableParallelism } from "node:os";
import type { Config } from "../../config/schema.ts";

/**
 * Generating sessions per core when the limit is not configured. Measured on a 2-core machine
 * (BENCHMARKS.md "End-to-end streaming"): pi spends ~1.2 ms of CPU per streamed delta, so a session
 * streaming 100 deltas/s takes ~12 % of a core; 10 sessions on 2 cores stayed under ~100 ms of added
 * p99 delta latency and 20 did not. 5 per core keeps that margin as cores grow.
 */
export const SESSIONS_PER_CORE = 5;

/** The configured `[admission] max_generating_sessions`, else the default from the cores (0 = unlimited). */
export function admissionLimit(config: Config, cores = availableParallelism()): number {
  return config.admission.max_generating_sessions ?? SESSIONS_PER_CORE * Math.max(1, cores);
}
