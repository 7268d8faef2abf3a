import type { UsageReport } from "../../../../src/protocol/index.ts";
import { formatCount, formatTokenCount, formatUsd } from "../common/format.ts";
import { totalTokens } from "./usage-days.ts";

/** The range's totals at a glance. */
export function UsageSummary({ report }: { report: UsageReport }) {
  const { total } = report;
  return (
    <dl class="usage-summary" data-testid="usage-summary">
      <div>
        <dt>Cost</dt>
        <dd data-testid="usage-total-cost">{formatUsd(total.cost_usd)}</dd>
      </div>
      <div>
        <dt>Requests</dt>
        <dd data-testid="usage-total-requests">{formatCount(total.requests)}</dd>
      </div>
      <div>
        <dt>Tokens</dt>
        <dd title={`${formatCount(totalTokens(total))} tokens`}>{formatTokenCount(totalTokens(total))}</dd>
      </div>
      <div>
        <dt>Input / output</dt>
        <dd>
          {formatTokenCount(total.input_tokens)} / {formatTokenCount(total.output_tokens)}
        </dd>
      </div>
    </dl>
  );
}
