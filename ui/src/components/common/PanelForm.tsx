import type { ComponentChildren } from "preact";
import { FormError } from "./Field.tsx";
import { FormButtons } from "./FormButtons.tsx";
import type { FormSubmit } from "./useFormSubmit.ts";

interface PanelFormProps {
  /** The heading, which also names the form. */
  title: string;
  testId?: string;
  /** From `useFormSubmit`: the server's refusal shows above the buttons, which stay on screen. */
  form: FormSubmit;
  onCancel: () => void;
  submitLabel: string;
  busyLabel: string;
  submitTestId: string;
  /** The fields. */
  children: ComponentChildren;
}

/** A form that opens in a panel on a list page to add or edit an entry: fields, error, Cancel and save. */
export function PanelForm(props: PanelFormProps) {
  const { title, testId, form, onCancel, submitLabel, busyLabel, submitTestId, children } = props;
  return (
    <form class="form panel" onSubmit={form.submit} aria-label={title} data-testid={testId}>
      <h2>{title}</h2>
      {children}
      <FormError message={form.error.value} />
      <FormButtons
        onCancel={onCancel}
        busy={form.busy.value}
        busyLabel={busyLabel}
        submitTestId={submitTestId}
      >
        {submitLabel}
      </FormButtons>
    </form>
  );
}
