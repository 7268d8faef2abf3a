import { useSignal } from "@preact/signals";
import { useEffect, useMemo } from "preact/hooks";
import type { UsageReport } from "../../../../src/protocol/index.ts";
import { api } from "../../lib/api.ts";
import { errorText } from "../../lib/errors.ts";
import { Field, FormError } from "../common/Field.tsx";
import { UsageChart } from "../usage/UsageChart.tsx";
import { UsageSummary } from "../usage/UsageSummary.tsx";
import { UsageTable } from "../usage/UsageTable.tsx";
import { addDays, dailySeries, monthStart, utcDay } from "../usage/usage-days.ts";

interface Reports {
  day: UsageReport;
  user: UsageReport;
  model: UsageReport;
}

type Loaded =
  | { status: "loading" }
  | { status: "ready"; reports: Reports }
  | { status: "failed"; error: string };

/** Quick ranges, each ending today (UTC). */
const PRESETS: readonly { label: string; from: (today: string) => string }[] = [
  { label: "7 days", from: (today) => addDays(today, -6) },
  { label: "30 days", from: (today) => addDays(today, -29) },
  { label: "90 days", from: (today) => addDays(today, -89) },
  { label: "This month", from: monthStart },
];

/** Admin: what every user spent on LLMs, per day (chart), per user and per model, over a range of UTC days. */
export function UsagePage() {
  const today = utcDay(Date.now());
  const from = useSignal(addDays(today, -29));
  const to = useSignal(today);
  const loaded = useSignal<Loaded>({ status: "loading" });
  const rangeError = from.value > to.value ? "The first day is after the last." : null;

  useEffect(() => {
    if (rangeError) return;
    let current = true;
    const range = { from: from.value, to: to.value };
    loaded.value = { status: "loading" };
    Promise.all([
      api.adminUsage({ group: "day", ...range }),
      api.adminUsage({ group: "user", ...range }),
      api.adminUsage({ group: "model", ...range }),
    ]).then(
      ([day, user, model]) => {
        if (current) loaded.value = { status: "ready", reports: { day, user, model } };
      },
      (error: unknown) => {
        if (current) loaded.value = { status: "failed", error: errorText(error) };
      },
    );
    return () => {
      current = false;
    };
  }, [from.value, to.value, rangeError]);

  const state = loaded.value;
  const reports = state.status === "ready" ? state.reports : null;
  // One series object per loaded report, so that the chart redraws only when the data changed.
  const series = useMemo(() => (reports ? dailySeries(reports.day) : null), [reports]);

  return (
    <main class="page usage-page" aria-labelledby="usage-title">
      <div class="page-head">
        <div>
          <h1 id="usage-title">Usage</h1>
          <p class="muted">
            LLM requests through the gateway, priced from each model's price. Days are UTC days, as budgets
            count them.
          </p>
        </div>
      </div>
      <fieldset class="usage-range">
        <legend class="visually-hidden">Date range</legend>
        <Field label="From">
          {(control) => (
            <input
              {...control}
              type="date"
              value={from.value}
              max={to.value}
              onChange={(event) => {
                if (event.currentTarget.value) from.value = event.currentTarget.value;
              }}
              data-testid="usage-from"
            />
          )}
        </Field>
        <Field label="To">
          {(control) => (
            <input
              {...control}
              type="date"
              value={to.value}
              min={from.value}
              onChange={(event) => {
                if (event.currentTarget.value) to.value = event.currentTarget.value;
              }}
              data-testid="usage-to"
            />
          )}
        </Field>
        <div class="usage-presets">
          {PRESETS.map((preset) => {
            const start = preset.from(today);
            const active = from.value === start && to.value === today;
            return (
              <button
                key={preset.label}
                type="button"
                class="button ghost small"
                aria-pressed={active}
                onClick={() => {
                  from.value = start;
                  to.value = today;
                }}
                data-testid="usage-preset"
              >
                {preset.label}
              </button>
            );
          })}
        </div>
      </fieldset>
      <FormError message={rangeError ?? (state.status === "failed" ? state.error : null)} />
      {state.status === "loading" && !rangeError && <p class="muted">Loading usage…</p>}
      {reports && series && (
        <>
          <UsageSummary report={reports.day} />
          <section class="panel" aria-labelledby="usage-chart-title">
            <h2 id="usage-chart-title">Per day</h2>
            <UsageChart
              series={series}
              label={`Cost and tokens per day from ${reports.day.from} to ${reports.day.to}`}
            />
          </section>
          <section class="usage-section" aria-labelledby="usage-users-title">
            <h2 id="usage-users-title">By user</h2>
            <UsageTable
              label="Usage by user"
              keyHeading="User"
              report={reports.user}
              testId="usage-user-row"
            />
          </section>
          <section class="usage-section" aria-labelledby="usage-models-title">
            <h2 id="usage-models-title">By model</h2>
            <UsageTable
              label="Usage by model"
              keyHeading="Model"
              report={reports.model}
              testId="usage-model-row"
              mono
            />
          </section>
        </>
      )}
    </main>
  );
}
