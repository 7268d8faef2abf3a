import { useSignal } from "@preact/signals";
import { useEffect, useId, useRef } from "preact/hooks";
import type { Model } from "../../../../src/protocol/index.ts";
import type { ChatSession } from "../../state/chat/chat-session.ts";
import { formatPrice, formatTokenCount } from "../common/format.ts";
import { ChevronIcon } from "../common/icons.tsx";
import type { ModelList } from "./useModels.ts";

/** Provider names cannot contain "/", model ids can: `provider/id` names one model. */
const encode = (model: { provider: string; id: string }) => `${model.provider}/${model.id}`;

/** pi's cost is USD per million tokens; a model without a price has zeros there. */
function priceOf(model: Model): { input: number; output: number } | null {
  const input = model.cost?.input ?? 0;
  const output = model.cost?.output ?? 0;
  return input > 0 || output > 0 ? { input, output } : null;
}

/** Every word of the search in the model's provider, id or name. */
function matches(model: Model, search: string): boolean {
  const haystack = `${model.provider} ${model.id} ${model.name}`.toLowerCase();
  return search
    .toLowerCase()
    .split(/\s+/)
    .filter((word) => word.length > 0)
    .every((word) => haystack.includes(word));
}

function groupByProvider(models: readonly Model[]): [string, Model[]][] {
  const groups = new Map<string, Model[]>();
  for (const model of models) groups.set(model.provider, [...(groups.get(model.provider) ?? []), model]);
  return [...groups.entries()].sort((a, b) => a[0].localeCompare(b[0]));
}

/**
 * The model for the next turn: a button with the current model and its context size, which opens a list
 * grouped by provider, searchable, with each model's context window and price. Arrow keys move through
 * the list, Enter picks, Escape closes.
 */
export function ModelPicker({ chat, list }: { chat: ChatSession; list: ModelList }) {
  const open = useSignal(false);
  const search = useSignal("");
  const active = useSignal<string | null>(null);
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const listId = useId();

  const models = list.models.value;
  const current = chat.model.value;
  const value = current ? encode(current) : "";
  const listedCurrent = models?.find((model) => encode(model) === value);
  const shown = (models ?? []).filter((model) => matches(model, search.value));
  const groups = groupByProvider(shown);
  const ordered = groups.flatMap(([, group]) => group);
  const disabled = chat.busy.value || models === null;

  const close = (refocus: boolean) => {
    open.value = false;
    search.value = "";
    if (refocus) button.current?.focus();
  };
  const choose = (model: Model) => {
    close(true);
    if (encode(model) !== value) void chat.setModel(model.provider, model.id);
  };

  // A click anywhere outside closes the list, as a native select's would.
  useEffect(() => {
    if (!open.value) return;
    input.current?.focus();
    const onPointerDown = (event: PointerEvent) => {
      if (!root.current?.contains(event.target as Node)) close(false);
    };
    document.addEventListener("pointerdown", onPointerDown);
    return () => document.removeEventListener("pointerdown", onPointerDown);
  }, [open.value]);

  // The highlighted option stays one that is shown, and in view.
  const activeValue = ordered.some((model) => encode(model) === active.value)
    ? active.value
    : ordered[0]
      ? encode(ordered[0])
      : null;
  useEffect(() => {
    if (!open.value || !activeValue) return;
    root.current
      ?.querySelector(`[data-value="${CSS.escape(activeValue)}"]`)
      ?.scrollIntoView({ block: "nearest" });
  }, [open.value, activeValue]);

  const onKeyDown = (event: KeyboardEvent) => {
    const index = ordered.findIndex((model) => encode(model) === activeValue);
    const move = (to: number) => {
      const target = ordered[Math.max(0, Math.min(ordered.length - 1, to))];
      if (target) active.value = encode(target);
    };
    if (event.key === "ArrowDown") move(index + 1);
    else if (event.key === "ArrowUp") move(index - 1);
    else if (event.key === "Home") move(0);
    else if (event.key === "End") move(ordered.length - 1);
    else if (event.key === "Enter") {
      const target = ordered[index];
      if (target) choose(target);
    } else if (event.key === "Escape") close(true);
    else return;
    event.preventDefault();
  };

  const optionId = (model: Model) => `${listId}-${encode(model).replace(/[^A-Za-z0-9_-]/g, "_")}`;
  const activeModel = ordered.find((model) => encode(model) === activeValue);
  const label = listedCurrent?.name ?? current?.name ?? current?.id ?? "Default model";

  return (
    <div class="model-picker" ref={root}>
      <button
        ref={button}
        type="button"
        class="model-picker-button"
        aria-haspopup="listbox"
        aria-expanded={open.value}
        aria-label={`Model: ${label}${listedCurrent ? `, ${formatTokenCount(listedCurrent.contextWindow)} context` : ""}`}
        title={list.error.value ? `Models unavailable: ${list.error.value}` : "Model used for the next turn"}
        disabled={disabled}
        onClick={() => {
          if (open.value) close(false);
          else {
            active.value = value;
            open.value = true;
          }
        }}
        data-testid="model-picker"
        data-value={value}
      >
        <span class="model-picker-name">{label}</span>{" "}
        {listedCurrent && (
          <span class="model-picker-context">{formatTokenCount(listedCurrent.contextWindow)}</span>
        )}
        <ChevronIcon size={12} />
      </button>
      {open.value && (
        <div class="model-menu" data-testid="model-menu">
          <input
            ref={input}
            type="search"
            class="model-search"
            placeholder="Search models…"
            aria-label="Search models"
            aria-controls={listId}
            aria-autocomplete="list"
            aria-activedescendant={activeModel ? optionId(activeModel) : undefined}
            value={search}
            onInput={(event) => {
              search.value = event.currentTarget.value;
            }}
            onKeyDown={onKeyDown}
            data-testid="model-search"
          />
          <div class="model-options" id={listId} role="listbox" aria-label="Models">
            {groups.map(([provider, group]) => (
              // biome-ignore lint/a11y/useSemanticElements: a group of options inside a listbox (ARIA listbox pattern); a fieldset is not one
              <div key={provider} role="group" aria-label={provider} class="model-group">
                <div class="model-group-label" aria-hidden="true">
                  {provider}
                </div>
                {group.map((model) => {
                  const price = priceOf(model);
                  const key = encode(model);
                  return (
                    // biome-ignore lint/a11y/useKeyWithClickEvents: the search box's keys drive the list (aria-activedescendant)
                    <div
                      key={key}
                      id={optionId(model)}
                      role="option"
                      tabIndex={-1}
                      class="model-option"
                      aria-selected={key === value}
                      data-active={key === activeValue}
                      data-value={key}
                      onPointerMove={() => {
                        if (active.value !== key) active.value = key;
                      }}
                      onClick={() => choose(model)}
                      data-testid="model-option"
                    >
                      <span class="model-option-name">{model.name}</span>
                      {model.name !== model.id && <span class="model-option-id">{model.id}</span>}
                      <span class="model-option-meta">
                        <span data-testid="model-option-context">
                          {formatTokenCount(model.contextWindow)} context
                        </span>
                        <span data-testid="model-option-price">
                          {price ? formatPrice(price) : "no price set"}
                        </span>
                        {model.reasoning && <span>reasoning</span>}
                      </span>
                    </div>
                  );
                })}
              </div>
            ))}
            {ordered.length === 0 && (
              <p class="model-none muted small">
                {models?.length === 0 ? "No models are configured." : "No model matches."}
              </p>
            )}
          </div>
        </div>
      )}
    </div>
  );
}
