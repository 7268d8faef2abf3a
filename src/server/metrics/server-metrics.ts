import { RunnerStatusResult, SessionState } from "../../protocol/index.ts";
import type { UsageTotals } from "../../protocol/llm.ts";
import type { RunnerClient } from "../runner/runner-client.ts";
import type { MetricFamily } from "./prometheus-text.ts";

/** One unanswered runner must not hold the scrape past Prometheus' own default timeout (10 s). */
const RUNNER_STATUS_TIMEOUT_MS = 3_000;

/** Where each figure lives in serve; all of them are read when a scrape comes, none is kept here. */
export interface MetricsSources {
  version: string;
  /** Open multiplexed WebSockets. */
  connections: () => number;
  /** Runner event lines relayed since serve started (the session hub's plain counter). */
  eventsRelayed: () => number;
  /** Sessions at least one socket watches. */
  watchedSessions: () => number;
  admission: () => { limit: number; generating: number; queued: number };
  /** The runners connected now (each is asked for its sessions). */
  runners: () => RunnerClient[];
  /** Runner connections whose process differed from the one before (a runner that died and came back). */
  runnerRestarts: () => number;
  /** Every admitted gateway request's usage, as recorded in the platform DB. */
  usage: () => UsageTotals;
  /** Gateway answers by HTTP status since serve started (refusals included). */
  gatewayResponses: () => ReadonlyMap<number, number>;
  /** Stream records the gateway did not send because their deltas went in a merged record. */
  gatewayRecordsMerged: () => number;
}

async function sessionsByState(runners: RunnerClient[]) {
  const counts = new Map<string, number>(SessionState.options.map((state) => [state, 0]));
  let unanswered = 0;
  await Promise.all(
    runners.map(async (runner) => {
      try {
        const { sessions } = RunnerStatusResult.parse(
          await runner.request("runner.status", {}, RUNNER_STATUS_TIMEOUT_MS),
        );
        for (const session of sessions) counts.set(session.state, (counts.get(session.state) ?? 0) + 1);
      } catch {
        unanswered++;
      }
    }),
  );
  return { counts, unanswered };
}

const gauge = (name: string, help: string, value: number): MetricFamily => ({
  name,
  help,
  type: "gauge",
  samples: [{ value }],
});
const counter = (name: string, help: string, value: number): MetricFamily => ({
  name,
  help,
  type: "counter",
  samples: [{ value }],
});

/** Every metric of `GET /api/metrics` (the list in docs/OPERATIONS.md "Metrics"). */
export async function collectServerMetrics(sources: MetricsSources): Promise<MetricFamily[]> {
  const runners = sources.runners();
  const sessions = await sessionsByState(runners);
  const memory = process.memoryUsage();
  const admission = sources.admission();
  const usage = sources.usage();
  const uptime = process.uptime();
  return [
    {
      name: "oqto_build_info",
      help: "The running oqto serve's version (always 1).",
      type: "gauge",
      samples: [{ labels: { version: sources.version }, value: 1 }],
    },
    gauge("oqto_uptime_seconds", "Seconds since this oqto serve started.", uptime),
    gauge(
      "oqto_process_start_time_seconds",
      "When this oqto serve started, in seconds since the Unix epoch.",
      Math.round(Date.now() / 1000 - uptime),
    ),
    gauge("oqto_process_resident_memory_bytes", "Resident memory of oqto serve.", memory.rss),
    {
      name: "oqto_process_heap_bytes",
      help: "JavaScript heap of oqto serve: used, and total reserved.",
      type: "gauge",
      samples: [
        { labels: { kind: "used" }, value: memory.heapUsed },
        { labels: { kind: "total" }, value: memory.heapTotal },
      ],
    },
    gauge("oqto_websocket_connections", "Open multiplexed WebSocket connections.", sources.connections()),
    counter(
      "oqto_events_relayed_total",
      "Agent events relayed from the runners since serve started.",
      sources.eventsRelayed(),
    ),
    {
      name: "oqto_sessions",
      help: "Running agent sessions by state, as the connected runners report them.",
      type: "gauge",
      samples: [...sessions.counts].map(([state, value]) => ({ labels: { state }, value })),
    },
    gauge(
      "oqto_sessions_watched",
      "Sessions at least one WebSocket is subscribed to.",
      sources.watchedSessions(),
    ),
    gauge(
      "oqto_admission_generating_sessions",
      "Sessions generating now (they count against the admission limit).",
      admission.generating,
    ),
    gauge("oqto_admission_queued_sessions", "Sessions waiting in the admission queue.", admission.queued),
    gauge("oqto_admission_limit", "Sessions allowed to generate at once (0: unlimited).", admission.limit),
    gauge("oqto_runners_connected", "Runners connected to serve.", runners.length),
    gauge(
      "oqto_runners_unanswered",
      "Connected runners that did not answer this scrape's status request (their sessions are not counted).",
      sessions.unanswered,
    ),
    counter(
      "oqto_runner_restarts_total",
      "Runners that came back as a new process since serve started.",
      sources.runnerRestarts(),
    ),
    counter(
      "oqto_llm_gateway_requests_total",
      "LLM requests the gateway admitted and forwarded, all time (the platform DB's usage).",
      usage.requests,
    ),
    {
      name: "oqto_llm_gateway_tokens_total",
      help: "LLM tokens the providers reported through the gateway, all time, by kind.",
      type: "counter",
      samples: [
        { labels: { kind: "input" }, value: usage.input_tokens },
        { labels: { kind: "output" }, value: usage.output_tokens },
        { labels: { kind: "cache_read" }, value: usage.cache_read_tokens },
        { labels: { kind: "cache_write" }, value: usage.cache_write_tokens },
      ],
    },
    counter(
      "oqto_llm_gateway_cost_usd_total",
      "Cost of the gateway's LLM requests in US dollars, all time, at the configured prices.",
      usage.cost_usd,
    ),
    {
      name: "oqto_llm_gateway_responses_total",
      help: "Gateway answers by HTTP status since serve started, refusals (401, 403, 429, …) included.",
      type: "counter",
      samples: [...sources.gatewayResponses()]
        .sort(([a], [b]) => a - b)
        .map(([status, value]) => ({ labels: { status: String(status) }, value })),
    },
    counter(
      "oqto_llm_gateway_delta_records_merged_total",
      "Provider stream records not sent to pi because their deltas went into a merged record, since start.",
      sources.gatewayRecordsMerged(),
    ),
  ];
}
