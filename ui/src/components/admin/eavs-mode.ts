import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { EavsStatus } from "../../../../src/protocol/eavs.ts";
import { ApiError, api } from "../../lib/api.ts";
import { errorText } from "../../lib/errors.ts";

/**
 * Where the LLM providers come from. The eavs status route answers in eavs mode (it never calls eavs, so it
 * answers while eavs is down too) and is a 409 without `[eavs]`.
 */
export type EavsMode =
  | { kind: "checking" }
  /** The server's own providers; `error` when the status could not be read for another reason than a 409. */
  | { kind: "embedded"; error: string | null }
  | { kind: "eavs"; status: EavsStatus };

/** The provider mode, read when the page opens and again (`reload`) after a sync. */
export function useEavsMode() {
  const mode = useSignal<EavsMode>({ kind: "checking" });

  const reload = async () => {
    try {
      mode.value = { kind: "eavs", status: await api.eavsStatus() };
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 409) {
        mode.value = { kind: "embedded", error: null };
      } else if (mode.value.kind !== "eavs") {
        // A failed re-read keeps the status already shown; a failed first read cannot tell the mode.
        mode.value = {
          kind: "embedded",
          error: `Could not tell whether eavs manages the providers: ${errorText(caught)}`,
        };
      }
    }
  };

  useEffect(() => {
    void reload();
  }, []);

  return { mode, reload };
}
