import type { ComponentType, FunctionComponent } from "preact";
import { useEffect, useState } from "preact/hooks";
import { errorText } from "../../lib/errors.ts";

/**
 * A component whose code is fetched the first time it renders (`import()`), so pages most users
 * never open stay out of the first load. Until then it shows a short loading line; if the chunk
 * cannot be fetched (the network dropped, or the server was upgraded and the old chunk is gone)
 * it says so and offers a retry and a reload.
 */
export function lazyComponent<P extends object>(
  what: string,
  load: () => Promise<ComponentType<P>>,
): FunctionComponent<P> {
  let loaded: ComponentType<P> | undefined;
  let pending: Promise<ComponentType<P>> | undefined;
  const fetchOnce = () => {
    pending ??= load().then(
      (component) => {
        loaded = component;
        return component;
      },
      (error: unknown) => {
        // Forget the failure, so "Try again" fetches again.
        pending = undefined;
        throw error;
      },
    );
    return pending;
  };

  return function Lazy(props: P) {
    const [, setLoaded] = useState(false);
    const [failure, setFailure] = useState<string | null>(null);
    const [attempt, setAttempt] = useState(0);
    // `attempt` is the retry trigger.
    useEffect(() => {
      if (loaded) return;
      let current = true;
      fetchOnce().then(
        () => current && setLoaded(true),
        (error: unknown) => current && setFailure(errorText(error)),
      );
      return () => {
        current = false;
      };
    }, [attempt]);

    if (loaded) {
      const Loaded = loaded;
      return <Loaded {...props} />;
    }
    if (failure !== null) {
      return (
        <div class="lazy-status" role="alert" data-testid="lazy-load-error">
          <p class="form-error">
            Could not load {what}: {failure}. If Oqto was just upgraded, reload the page.
          </p>
          <button
            type="button"
            class="button small"
            onClick={() => {
              setFailure(null);
              setAttempt(attempt + 1);
            }}
          >
            Try again
          </button>{" "}
          <button type="button" class="button small" onClick={() => location.reload()}>
            Reload the page
          </button>
        </div>
      );
    }
    return (
      <p class="lazy-status muted" role="status" data-testid="lazy-loading">
        Loading {what}…
      </p>
    );
  };
}
