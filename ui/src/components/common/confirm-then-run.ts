import type { Signal } from "@preact/signals";
import { errorText } from "../../lib/errors.ts";
import { confirmDialog } from "../../state/dialogs.ts";

export type ConfirmQuestion = Parameters<typeof confirmDialog>[0];

/** What became of the action: the caller reloads after "done", and often after "failed" too. */
export type RunOutcome = "cancelled" | "failed" | "done";

/**
 * Asks `question` (with none, goes straight on), then runs `action`. Its failure, such as a refusal of
 * the server, replaces whatever `error` said before: the page shows it rather than losing it in a toast.
 */
export async function confirmThenRun(
  question: ConfirmQuestion | null,
  action: () => Promise<unknown>,
  error: Signal<string | null>,
): Promise<RunOutcome> {
  if (question && !(await confirmDialog(question))) return "cancelled";
  error.value = null;
  try {
    await action();
    return "done";
  } catch (caught) {
    error.value = errorText(caught);
    return "failed";
  }
}
