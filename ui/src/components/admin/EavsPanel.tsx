import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { QuotaSnapshot } from "../../../../src/llm/eavs/eavs-schemas.ts";
import type { EavsStatus } from "../../../../src/protocol/eavs.ts";
import { api } from "../../lib/api.ts";
import { errorText } from "../../lib/errors.ts";
import { DataTable } from "../common/DataTable.tsx";
import { formatCount } from "../common/format.ts";
import { RelativeTime } from "../common/RelativeTime.tsx";

type Quotas =
  | { state: "loading" }
  | { state: "ready"; quotas: QuotaSnapshot[] }
  | { state: "failed"; error: string };

const NONE = <span class="muted">—</span>;

/** 12 → "12 s", 150 → "3 min", 7200 → "2 h". */
export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${Number((seconds / 3600).toFixed(1))} h`;
}

/** "498 of 500" left; either side may be unknown. */
function left(remaining: number | null | undefined, limit: number | null | undefined) {
  if (remaining == null && limit == null) return NONE;
  if (limit == null) return formatCount(remaining ?? 0);
  return `${remaining == null ? "?" : formatCount(remaining)} of ${formatCount(limit)}`;
}

function resetIn(seconds: number | null | undefined) {
  return seconds == null ? NONE : `in ${formatSeconds(seconds)}`;
}

/** The quotas eavs saw in the providers' rate-limit headers; re-read whenever `status` is. */
function QuotasTable({ status }: { status: EavsStatus }) {
  const quotas = useSignal<Quotas>({ state: "loading" });

  useEffect(() => {
    let current = true;
    api.eavsQuotas().then(
      (list) => {
        if (current) quotas.value = { state: "ready", quotas: list };
      },
      (error: unknown) => {
        if (current) quotas.value = { state: "failed", error: errorText(error) };
      },
    );
    return () => {
      current = false;
    };
  }, [status]);

  const state = quotas.value;
  if (state.state === "loading") return <p class="muted">Loading quotas…</p>;
  if (state.state === "failed") {
    return (
      <p class="form-error" role="alert" data-testid="eavs-quotas-error">
        {state.error}
      </p>
    );
  }
  if (state.quotas.length === 0) {
    return <p class="muted empty-note">eavs has seen no rate-limit headers from a provider yet.</p>;
  }
  return (
    <DataTable
      label="Provider quotas"
      columns={[
        "Provider",
        "Account",
        "Requests left",
        "Requests reset",
        "Tokens left",
        "Tokens reset",
        "Seen",
      ]}
    >
      {state.quotas.map((quota) => (
        <tr
          key={`${quota.provider}/${quota.account}`}
          data-testid="eavs-quota-row"
          data-provider={quota.provider}
          data-account={quota.account}
        >
          <th scope="row">{quota.provider}</th>
          <td data-label="Account">{quota.account || NONE}</td>
          <td data-label="Requests left" data-testid="eavs-quota-requests">
            {left(quota.requests_remaining, quota.requests_limit)}
          </td>
          <td data-label="Requests reset">{resetIn(quota.requests_reset_secs)}</td>
          <td data-label="Tokens left" data-testid="eavs-quota-tokens">
            {left(quota.tokens_remaining, quota.tokens_limit)}
          </td>
          <td data-label="Tokens reset">{resetIn(quota.tokens_reset_secs)}</td>
          <td data-label="Seen">
            {quota.age_secs === undefined ? NONE : `${formatSeconds(quota.age_secs)} ago`}
          </td>
        </tr>
      ))}
    </DataTable>
  );
}

/** eavs mode: what Oqto knows of eavs (its providers, every user's key, revocations due) and eavs' quotas. */
export function EavsPanel({ status }: { status: EavsStatus }) {
  const { providers, keys, pending_revocations: pending } = status;
  const problems = keys.filter((key) => key.problem !== null);
  const usernames = new Map(keys.map((key) => [key.user_id, key.username]));
  return (
    <section class="panel eavs-panel" aria-labelledby="eavs-title" data-testid="eavs-panel">
      <h2 id="eavs-title">eavs</h2>
      <p class="muted section-intro">
        The LLM proxy at <span class="mono">{status.url}</span> holds the provider keys; each user reaches it
        with a virtual key of their own.
      </p>
      <dl class="usage-summary">
        <div>
          <dt>Providers offered</dt>
          <dd data-testid="eavs-provider-count">{providers.count}</dd>
        </div>
        <div>
          <dt>Last read</dt>
          <dd data-testid="eavs-refreshed">
            {providers.refreshed_at === null ? "never" : <RelativeTime ms={providers.refreshed_at} />}
          </dd>
        </div>
        <div>
          <dt>Users with a key</dt>
          <dd data-testid="eavs-key-count">
            {keys.filter((key) => key.key_id !== null).length} of {keys.length}
          </dd>
        </div>
        <div>
          <dt>Pending revocations</dt>
          <dd data-testid="eavs-pending-count">{pending.length}</dd>
        </div>
      </dl>
      {providers.error !== null && (
        <p class="form-error" role="alert" data-testid="eavs-read-error">
          The last read of eavs' providers failed: {providers.error}
        </p>
      )}

      <h3 class="subhead">Providers not offered</h3>
      {providers.skipped.length === 0 ? (
        <p class="muted empty-note">The gateway offers every provider eavs lists.</p>
      ) : (
        <DataTable label="Providers not offered" columns={["Provider", "Reason"]}>
          {providers.skipped.map((skip) => (
            <tr key={skip.name} data-testid="eavs-skipped-row" data-name={skip.name}>
              <th scope="row">{skip.name}</th>
              <td data-label="Reason">{skip.reason}</td>
            </tr>
          ))}
        </DataTable>
      )}

      <h3 class="subhead">Key problems</h3>
      {problems.length === 0 ? (
        <p class="muted empty-note" data-testid="eavs-no-key-problems">
          No user's key has a problem.
        </p>
      ) : (
        <DataTable label="Key problems" columns={["User", "Key", "Problem", "Since"]}>
          {problems.map((key) => (
            <tr key={key.user_id} data-testid="eavs-key-problem-row" data-user={key.username}>
              <th scope="row">{key.username}</th>
              <td data-label="Key" class="mono">
                {key.key_id ?? <span class="muted">none yet</span>}
              </td>
              <td data-label="Problem">{key.problem?.message}</td>
              <td data-label="Since">{key.problem && <RelativeTime ms={key.problem.at} />}</td>
            </tr>
          ))}
        </DataTable>
      )}

      <h3 class="subhead">Pending revocations</h3>
      {pending.length === 0 ? (
        <p class="muted empty-note">Every key Oqto stopped using is disabled in eavs.</p>
      ) : (
        <DataTable label="Pending revocations" columns={["Key", "User", "Reason", "Queued", "Last error"]}>
          {pending.map((revocation) => (
            <tr key={revocation.key_id} data-testid="eavs-revocation-row" data-key-id={revocation.key_id}>
              <th scope="row" class="mono">
                {revocation.key_id}
              </th>
              <td data-label="User">
                {usernames.get(revocation.user_id) ?? (
                  <>
                    <span class="mono">{revocation.user_id}</span> <span class="muted">(deleted)</span>
                  </>
                )}
              </td>
              <td data-label="Reason">{revocation.reason}</td>
              <td data-label="Queued">
                <RelativeTime ms={revocation.queued_at} />
              </td>
              <td data-label="Last error">{revocation.last_error ?? NONE}</td>
            </tr>
          ))}
        </DataTable>
      )}

      <h3 class="subhead">Provider quotas</h3>
      <p class="muted small">The providers' own rate limits, from the headers eavs last saw from each.</p>
      <QuotasTable status={status} />
    </section>
  );
}
