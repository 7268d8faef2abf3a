import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { MyLimits, UsageReport, UsageTotals } from "../../../../src/protocol/index.ts";
import { api } from "../../lib/api.ts";
import { errorText } from "../../lib/errors.ts";
import { FormError } from "../common/Field.tsx";
import { formatCount, formatTokenCount, formatUsd } from "../common/format.ts";
import { UsageTable } from "../usage/UsageTable.tsx";
import { monthStart, totalTokens, utcDay } from "../usage/usage-days.ts";

type Loaded =
  | { status: "loading" }
  | { status: "ready"; limits: MyLimits; byModel: UsageReport }
  | { status: "failed"; error: string };

/** The user's own LLM usage this month, by model, and the budgets and limits that apply to them. */
export function UsageSection() {
  const loaded = useSignal<Loaded>({ status: "loading" });

  useEffect(() => {
    const today = utcDay(Date.now());
    Promise.all([api.myLimits(), api.myUsage({ group: "model", from: monthStart(today), to: today })]).then(
      ([limits, byModel]) => {
        loaded.value = { status: "ready", limits, byModel };
      },
      (error: unknown) => {
        loaded.value = { status: "failed", error: errorText(error) };
      },
    );
  }, []);

  const state = loaded.value;
  return (
    <section class="panel" aria-labelledby="usage-title" data-testid="my-usage">
      <h2 id="usage-title">LLM usage</h2>
      <p class="muted small section-intro">
        What your agents' model requests used, priced from each model's price. Days and months are UTC:
        budgets reset at 00:00 UTC.
      </p>
      <FormError message={state.status === "failed" ? state.error : null} />
      {state.status === "loading" && <p class="muted">Loading usage…</p>}
      {state.status === "ready" && <UsageAndLimits limits={state.limits} byModel={state.byModel} />}
    </section>
  );
}

function UsageAndLimits({ limits: mine, byModel }: { limits: MyLimits; byModel: UsageReport }) {
  const { limits, today, this_month: month } = mine;
  return (
    <>
      <div class="usage-periods">
        <Period title="Today" totals={today} testId="my-usage-today" />
        <Period title="This month" totals={month} testId="my-usage-month" />
      </div>
      <h3 class="subhead">Your limits</h3>
      <dl class="limit-list" data-testid="my-limits">
        <Budget label="Daily budget" used={today.cost_usd} limit={limits.daily_budget_usd} usd />
        <Budget label="Monthly budget" used={month.cost_usd} limit={limits.monthly_budget_usd} usd />
        <Budget label="Tokens per day" used={totalTokens(today)} limit={limits.daily_tokens} />
        <Budget label="Tokens per month" used={totalTokens(month)} limit={limits.monthly_tokens} />
        <div>
          <dt>Rate</dt>
          <dd>
            {limits.rpm === undefined && limits.tpm === undefined
              ? "no limit"
              : [
                  limits.rpm !== undefined && `${formatCount(limits.rpm)} requests per minute`,
                  limits.tpm !== undefined && `${formatTokenCount(limits.tpm)} tokens per minute`,
                ]
                  .filter(Boolean)
                  .join(", ")}
          </dd>
        </div>
        <div>
          <dt>Models</dt>
          <dd data-testid="my-limits-models">
            {limits.models === undefined ? (
              "every configured model"
            ) : limits.models.length === 0 ? (
              "none"
            ) : (
              <ul class="chips">
                {limits.models.map((model) => (
                  <li key={model} class="chip">
                    {model}
                  </li>
                ))}
              </ul>
            )}
          </dd>
        </div>
      </dl>
      <h3 class="subhead">This month by model</h3>
      <UsageTable
        label="Your usage this month by model"
        keyHeading="Model"
        report={byModel}
        testId="my-usage-model-row"
        mono
      />
    </>
  );
}

function Period({ title, totals, testId }: { title: string; totals: UsageTotals; testId: string }) {
  return (
    <div class="usage-period" data-testid={testId}>
      <span class="usage-period-title">{title}</span>
      <strong class="usage-period-cost" data-testid="usage-period-cost">
        {formatUsd(totals.cost_usd)}
      </strong>
      <span class="muted small">
        {formatCount(totals.requests)} {totals.requests === 1 ? "request" : "requests"} ·{" "}
        {formatTokenCount(totalTokens(totals))} tokens
      </span>
    </div>
  );
}

/** A budget and how much of it is used, as a meter; none set is "no limit". */
function Budget({
  label,
  used,
  limit,
  usd = false,
}: {
  label: string;
  used: number;
  limit?: number;
  usd?: boolean;
}) {
  const format = usd ? formatUsd : formatTokenCount;
  return (
    <div data-testid="my-limit" data-limit={label}>
      <dt>{label}</dt>
      <dd>
        {limit === undefined ? (
          "no limit"
        ) : (
          <>
            <meter
              class="gauge budget-meter"
              min={0}
              max={limit || 1}
              low={limit * 0.75}
              high={limit * 0.9}
              optimum={0}
              value={Math.min(used, limit)}
              aria-label={`${label}: ${format(used)} of ${format(limit)} used`}
            />
            <span class="small">
              {format(used)} of {format(limit)}
            </span>
          </>
        )}
      </dd>
    </div>
  );
}
