import { useSignal } from "@preact/signals";
import { errorText } from "../../lib/errors.ts";

interface FormSubmitOptions {
  /** A message that stops the submit before `action` runs, or null to go on. */
  validate?: () => string | null;
  /** Runs after `action` failed, e.g. to clear a password the user must type again. */
  onError?: () => void;
}

/** A form's submit cycle: `busy` while `action` runs (to disable the button), its failure in `error`. */
export function useFormSubmit(action: () => Promise<unknown>, { validate, onError }: FormSubmitOptions = {}) {
  const error = useSignal<string | null>(null);
  const busy = useSignal(false);

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const invalid = validate?.() ?? null;
    if (invalid) {
      error.value = invalid;
      return;
    }
    busy.value = true;
    error.value = null;
    try {
      await action();
    } catch (caught) {
      error.value = errorText(caught);
      onError?.();
    } finally {
      busy.value = false;
    }
  };

  return { error, busy, submit };
}

/** What `useFormSubmit` gives a form to render: its submit handler, busy state and error. */
export type FormSubmit = ReturnType<typeof useFormSubmit>;
