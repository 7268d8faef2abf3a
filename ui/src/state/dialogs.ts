import { signal } from "@preact/signals";

interface ConfirmRequest {
  kind: "confirm";
  /** Distinguishes two dialogs with the same text, so each gets fresh state. */
  id: number;
  title: string;
  message: string;
  confirmLabel: string;
  danger: boolean;
  resolve: (confirmed: boolean) => void;
}

interface PromptRequest {
  kind: "prompt";
  id: number;
  title: string;
  label: string;
  initial: string;
  confirmLabel: string;
  /** Selects the name without its extension, as file managers do on rename. */
  selectStem: boolean;
  /** Runs with the entered value; a failure is shown in the dialog, which stays open. */
  action: (value: string) => Promise<void>;
  resolve: (done: boolean) => void;
}

export type DialogRequest = ConfirmRequest | PromptRequest;

/** The one modal dialog on screen (rendered by DialogHost). */
export const activeDialog = signal<DialogRequest | null>(null);
let dialogCounter = 0;

function show(request: DialogRequest): void {
  // A new question replaces an unanswered one, which counts as cancelled.
  const previous = activeDialog.value;
  if (previous?.kind === "confirm") previous.resolve(false);
  else if (previous?.kind === "prompt") previous.resolve(false);
  activeDialog.value = request;
}

/** Asks a yes/no question; resolves true when confirmed. */
export function confirmDialog(options: {
  title: string;
  message: string;
  confirmLabel: string;
  danger?: boolean;
}): Promise<boolean> {
  dialogCounter += 1;
  const id = dialogCounter;
  return new Promise((resolve) => show({ kind: "confirm", id, danger: false, ...options, resolve }));
}

/** Asks for a text and runs `action` with it; resolves true once the action succeeded, false if cancelled. */
export function promptDialog(options: {
  title: string;
  label: string;
  initial?: string;
  confirmLabel: string;
  selectStem?: boolean;
  action: (value: string) => Promise<void>;
}): Promise<boolean> {
  dialogCounter += 1;
  const id = dialogCounter;
  return new Promise((resolve) =>
    show({ kind: "prompt", id, initial: "", selectStem: false, ...options, resolve }),
  );
}

/** Closes the dialog with the given outcome. */
export function settleDialog(request: DialogRequest, outcome: boolean): void {
  if (activeDialog.value === request) activeDialog.value = null;
  request.resolve(outcome);
}
