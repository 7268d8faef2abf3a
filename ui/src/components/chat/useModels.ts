import { type Signal, useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { Model } from "../../../../src/protocol/index.ts";
import { errorText } from "../../lib/errors.ts";
import type { ChatSession } from "../../state/chat/chat-session.ts";

export interface ModelList {
  /** `null` until the agent answered. */
  models: Signal<Model[] | null>;
  error: Signal<string | null>;
}

/**
 * The models the session's agent may use (with their context window and price), for the picker and the
 * context gauge. Asked once the session exists (a process still starting cannot answer); a failure is
 * retried on the next state change.
 */
export function useModels(chat: ChatSession): ModelList {
  const models = useSignal<Model[] | null>(null);
  const error = useSignal<string | null>(null);
  const state = chat.state.value;
  const ready = state !== null && state !== "starting";
  useEffect(() => {
    if (!ready || models.value !== null) return;
    chat.listModels().then(
      (list) => {
        models.value = list;
        error.value = null;
      },
      (caught) => {
        error.value = errorText(caught);
      },
    );
  }, [chat, ready, state]);
  return { models, error };
}

/** The session's current model among the listed ones, if it is listed. */
export function currentModel(chat: ChatSession, models: readonly Model[] | null): Model | undefined {
  const current = chat.model.value;
  if (!current || !models) return undefined;
  return models.find((model) => model.provider === current.provider && model.id === current.id);
}
