import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { errorText } from "../../lib/errors.ts";

/**
 * A list a page loads when it opens and again (`reload`) after each change it makes. A failed load keeps
 * the list it had, so the page still shows what it knew next to the error.
 */
export function useLoadedList<T>(load: () => Promise<T[]>) {
  /** `null` until the first load succeeded. */
  const items = useSignal<T[] | null>(null);
  const error = useSignal<string | null>(null);

  const reload = async () => {
    try {
      items.value = await load();
      error.value = null;
    } catch (caught) {
      error.value = errorText(caught);
    }
  };

  useEffect(() => {
    void reload();
  }, []);

  return { items, error, reload };
}
