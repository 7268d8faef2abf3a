import { useSignal } from "@preact/signals";
import type { CreatedInvites } from "../../../../src/protocol/index.ts";
import { api } from "../../lib/api.ts";
import { TextField } from "../common/Field.tsx";
import { PanelForm } from "../common/PanelForm.tsx";
import { SelectField, type SelectOption } from "../common/SelectField.tsx";
import { useFormSubmit } from "../common/useFormSubmit.ts";

const DAY_S = 86_400;
/** Lifetimes offered for new codes, in seconds; "" is a code that lasts until used up or revoked. */
const EXPIRIES: readonly SelectOption<string>[] = [
  { label: "1 day", value: String(DAY_S) },
  { label: "7 days", value: String(7 * DAY_S) },
  { label: "30 days", value: String(30 * DAY_S) },
  { label: "90 days", value: String(90 * DAY_S) },
  { label: "Never expires", value: "" },
];
const MAX_USES = 10_000;
const MAX_COUNT = 100;

/** A whole number within [1, max] typed into a field, or null. */
function wholeNumber(text: string, max: number): number | null {
  const value = Number(text);
  return Number.isInteger(value) && value >= 1 && value <= max ? value : null;
}

interface CreateInviteFormProps {
  onCreated: (invites: CreatedInvites["invites"]) => Promise<void>;
  onCancel: () => void;
}

/** One invite code or a batch, all with the same uses, lifetime and note. */
export function CreateInviteForm({ onCreated, onCancel }: CreateInviteFormProps) {
  const uses = useSignal("1");
  const expiry = useSignal(String(7 * DAY_S));
  const note = useSignal("");
  const count = useSignal("1");
  const form = useFormSubmit(
    async () => {
      const text = note.value.trim();
      const invites = await api.createInvites({
        max_uses: wholeNumber(uses.value, MAX_USES) ?? 1,
        count: wholeNumber(count.value, MAX_COUNT) ?? 1,
        ...(expiry.value && { expires_in_s: Number(expiry.value) }),
        ...(text && { note: text }),
      });
      await onCreated(invites);
    },
    {
      validate: () => {
        if (wholeNumber(uses.value, MAX_USES) === null)
          return `Uses per code must be a whole number from 1 to ${MAX_USES}.`;
        if (wholeNumber(count.value, MAX_COUNT) === null)
          return `Number of codes must be a whole number from 1 to ${MAX_COUNT}.`;
        return null;
      },
    },
  );
  const many = wholeNumber(count.value, MAX_COUNT) ?? 1;

  return (
    <PanelForm
      title="New invite codes"
      testId="invite-form"
      form={form}
      onCancel={onCancel}
      submitLabel={many === 1 ? "Create code" : `Create ${many} codes`}
      busyLabel="Creating…"
      submitTestId="invite-create"
    >
      <div class="form-grid">
        <TextField
          label="Uses per code"
          hint="How many accounts each code can make."
          value={uses}
          type="number"
          inputMode="numeric"
          min={1}
          max={MAX_USES}
          required
          data-testid="invite-uses"
        />
        <SelectField
          label="Expires"
          hint="Unused codes stop working then."
          value={expiry}
          options={EXPIRIES}
          testId="invite-expiry"
        />
        <TextField
          label="Note"
          hint="Optional, for you: whom the codes are for."
          value={note}
          maxLength={200}
          autocomplete="off"
          placeholder="e.g. for Carol"
          data-testid="invite-note"
        />
        <TextField
          label="Number of codes"
          hint={`Up to ${MAX_COUNT}, each with these settings.`}
          value={count}
          type="number"
          inputMode="numeric"
          min={1}
          max={MAX_COUNT}
          required
          data-testid="invite-count"
        />
      </div>
    </PanelForm>
  );
}
