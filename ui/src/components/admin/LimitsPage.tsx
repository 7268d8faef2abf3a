import { useSignal } from "@preact/signals";
import type { LimitScope, LimitsEntry, Provider, User } from "../../../../src/protocol/index.ts";
import { api } from "../../lib/api.ts";
import { confirmThenRun } from "../common/confirm-then-run.ts";
import { DataTable } from "../common/DataTable.tsx";
import { ListPage } from "../common/ListPage.tsx";
import { RowActionButton } from "../common/RowActionButton.tsx";
import { useLoadedList } from "../common/useLoadedList.ts";
import { LimitsForm } from "./LimitsForm.tsx";
import { LIMIT_COLUMNS, LIMIT_FIELDS, limitValue, modelChoices } from "./limits-fields.ts";

/** One line of the table: a role or a user, with the limits set for it (if any). */
interface Subject {
  scope: LimitScope;
  subject: string;
  label: string;
  detail: string;
  entry: LimitsEntry | undefined;
}

const ROLES: readonly { role: "user" | "admin"; label: string; detail: string }[] = [
  { role: "user", label: "Every user", detail: "role user" },
  { role: "admin", label: "Every administrator", detail: "role admin" },
];

interface Loaded {
  entries: LimitsEntry[];
  users: User[];
  providers: Provider[];
}

/** The three lists the page needs, loaded together (as one item: useLoadedList keeps a list). */
async function loadAll(): Promise<[Loaded]> {
  const [entries, users, providers] = await Promise.all([
    api.listLimits(),
    api.listUsers(),
    // eavs mode or a failure here only loses the model checkboxes, not the page.
    api.listProviders().catch(() => [] as Provider[]),
  ]);
  return [{ entries, users, providers }];
}

function subjectsOf({ entries, users }: Loaded): Subject[] {
  const find = (scope: LimitScope, subject: string) =>
    entries.find((entry) => entry.scope === scope && entry.subject === subject);
  const roles = ROLES.map(({ role, label, detail }) => ({
    scope: "role" as const,
    subject: role,
    label,
    detail,
    entry: find("role", role),
  }));
  const people = [...users]
    .sort((a, b) => a.username.localeCompare(b.username))
    .map((user) => ({
      scope: "user" as const,
      subject: user.id,
      label: user.display_name ? `${user.display_name} (${user.username})` : user.username,
      detail: `user · role ${user.role}`,
      entry: find("user", user.id),
    }));
  return [...roles, ...people];
}

/**
 * Admin: LLM budgets, rate limits and allowed models per role and per user. A user's own value wins over
 * their role's; a field set nowhere is unlimited.
 */
export function LimitsPage() {
  const { items, error, reload } = useLoadedList(loadAll);
  const editing = useSignal<Subject | null>(null);
  const loaded = items.value?.[0];

  const clear = async (subject: Subject) => {
    const outcome = await confirmThenRun(
      {
        title: `Clear the limits of ${subject.label}?`,
        message:
          subject.scope === "user"
            ? "The limits of their role apply to them from now on."
            : "Users of this role are unlimited from now on, except where their own limits say otherwise.",
        confirmLabel: "Clear limits",
        danger: true,
      },
      () => api.clearLimits(subject.scope, subject.subject),
      error,
    );
    if (outcome === "done") {
      if (editing.value?.subject === subject.subject) editing.value = null;
      await reload();
    }
  };

  const current = editing.value;
  return (
    <ListPage
      titleId="limits-title"
      title="Limits"
      intro="Budgets, rate limits and allowed models, per role and per user. A user's own value wins over their role's; what is set nowhere is unlimited. Budgets reset at 00:00 UTC."
      error={error.value}
      items={loaded ? subjectsOf(loaded) : null}
      loadingText="Loading limits…"
      empty={<p>No users yet.</p>}
      renderList={(subjects) => (
        <DataTable label="Limits" columns={["Applies to", ...LIMIT_COLUMNS, "Models"]} withActions>
          {subjects.map((subject) => (
            <LimitsRow
              key={`${subject.scope}:${subject.subject}`}
              subject={subject}
              onEdit={() => {
                editing.value = subject;
              }}
              onClear={() => void clear(subject)}
            />
          ))}
        </DataTable>
      )}
    >
      {current && loaded && (
        <LimitsForm
          key={`${current.scope}:${current.subject}`}
          title={`Limits: ${current.label}`}
          emptyMeans={
            current.scope === "user" ? "the value of their role applies" : "unless a user's own limit says so"
          }
          current={current.entry?.limits}
          choices={modelChoices(loaded.providers)}
          onSave={async (body) => {
            await api.setLimits(current.scope, current.subject, body);
            editing.value = null;
            await reload();
          }}
          onCancel={() => {
            editing.value = null;
          }}
        />
      )}
    </ListPage>
  );
}

function LimitsRow({
  subject,
  onEdit,
  onClear,
}: {
  subject: Subject;
  onEdit: () => void;
  onClear: () => void;
}) {
  const limits = subject.entry?.limits;
  const unset = subject.scope === "user" ? "role's" : "—";
  return (
    <tr
      data-testid="limits-row"
      data-scope={subject.scope}
      data-subject={subject.subject}
      data-set={subject.entry !== undefined}
    >
      <th scope="row" data-label="Applies to">
        <span class="cell-title">{subject.label}</span>
        <span class="muted small limits-detail">{subject.detail}</span>
      </th>
      {LIMIT_COLUMNS.map((column) => {
        const set = LIMIT_FIELDS.filter((field) => field.column === column).flatMap((field) => {
          const value = limits ? limitValue(limits, field.key) : null;
          return value === null ? [] : [{ field, value }];
        });
        return (
          <td key={column} data-label={column}>
            {set.length === 0 ? (
              <span class="muted">{unset}</span>
            ) : (
              set.map(({ field, value }) => (
                <span key={field.key} class="limits-value" data-testid={`limits-cell-${field.key}`}>
                  <strong>{value}</strong> <span class="muted">{field.suffix}</span>
                </span>
              ))
            )}
          </td>
        );
      })}
      <td data-label="Models" data-testid="limits-cell-models">
        {limits?.models === undefined ? (
          <span class="muted">{subject.scope === "user" ? "role's" : "all"}</span>
        ) : limits.models.length === 0 ? (
          <span class="badge danger">none</span>
        ) : (
          <ul class="chips">
            {limits.models.map((model) => (
              <li key={model} class="chip">
                {model}
              </li>
            ))}
          </ul>
        )}
      </td>
      <td class="row-actions">
        <RowActionButton label={`Edit the limits of ${subject.label}`} onClick={onEdit} testId="limits-edit">
          Edit
        </RowActionButton>
        {subject.entry && (
          <RowActionButton
            label={`Clear the limits of ${subject.label}`}
            onClick={onClear}
            testId="limits-clear"
          >
            Clear
          </RowActionButton>
        )}
      </td>
    </tr>
  );
}
