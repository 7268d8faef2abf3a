import type { Signal } from "@preact/signals";

/** Props that keep a text control and a string signal in step; spread them onto the control. */
export function bindValue(target: Signal<string>) {
  return {
    value: target,
    onInput: (event: { currentTarget: HTMLInputElement | HTMLTextAreaElement }) => {
      target.value = event.currentTarget.value;
    },
  };
}
