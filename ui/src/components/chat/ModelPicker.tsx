import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { Model } from "../../../../src/protocol/index.ts";
import { errorText } from "../../lib/errors.ts";
import type { ChatSession } from "../../state/chat/chat-session.ts";

/** Provider names cannot contain "/", model ids can: split at the first one. */
const encode = (provider: string, id: string) => `${provider}/${id}`;
function decode(value: string): { provider: string; id: string } | null {
  const slash = value.indexOf("/");
  return slash > 0 ? { provider: value.slice(0, slash), id: value.slice(slash + 1) } : null;
}

function groupByProvider(models: readonly Model[]): [string, Model[]][] {
  const groups = new Map<string, Model[]>();
  for (const model of models) groups.set(model.provider, [...(groups.get(model.provider) ?? []), model]);
  return [...groups.entries()].sort((a, b) => a[0].localeCompare(b[0]));
}

export function ModelPicker({ chat }: { chat: ChatSession }) {
  const models = useSignal<Model[] | null>(null);
  const error = useSignal<string | null>(null);

  // Ask once the session exists (a process still starting cannot answer); a failure retries on the next state.
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

  const current = chat.model.value;
  const value = current ? encode(current.provider, current.id) : "";
  const list = models.value ?? [];
  const listed = list.some((m) => encode(m.provider, m.id) === value);
  return (
    <select
      class="model-picker"
      aria-label="Model"
      title={error.value ? `Models unavailable: ${error.value}` : "Model used for the next turn"}
      value={value}
      disabled={chat.busy.value || models.value === null}
      onChange={(event) => {
        const chosen = decode(event.currentTarget.value);
        if (chosen) void chat.setModel(chosen.provider, chosen.id);
      }}
      data-testid="model-picker"
    >
      {!listed && <option value={value}>{current ? (current.name ?? current.id) : "Default model"}</option>}
      {groupByProvider(list).map(([provider, group]) => (
        <optgroup key={provider} label={provider}>
          {group.map((model) => (
            <option key={model.id} value={encode(model.provider, model.id)}>
              {model.name}
            </option>
          ))}
        </optgroup>
      ))}
    </select>
  );
}
