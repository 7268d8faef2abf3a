import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { errorText } from "../../lib/errors.ts";
import { effectiveTheme } from "../../state/theme.ts";
import type { DailySeries } from "./usage-days.ts";

/**
 * Cost and tokens per day. uPlot is fetched the first time a chart is shown (a chunk of its own), then
 * drawn into the box at its width, again when the box is resized or the theme changes its colors.
 */
export function UsageChart({ series, label }: { series: DailySeries; label: string }) {
  const host = useRef<HTMLDivElement>(null);
  const status = useSignal<{ state: "loading" | "ready" } | { state: "failed"; error: string }>({
    state: "loading",
  });
  const theme = effectiveTheme.value;

  useEffect(() => {
    let cancelled = false;
    let cleanup = () => {};
    import("./usage-chart.ts").then(
      ({ drawUsageChart }) => {
        const element = host.current;
        if (cancelled || !element) return;
        element.replaceChildren();
        const chart = drawUsageChart(element, series, element.clientWidth);
        const observer = new ResizeObserver(() => chart.resize(element.clientWidth));
        observer.observe(element);
        cleanup = () => {
          observer.disconnect();
          chart.destroy();
        };
        status.value = { state: "ready" };
      },
      (error: unknown) => {
        if (!cancelled) status.value = { state: "failed", error: errorText(error) };
      },
    );
    return () => {
      cancelled = true;
      cleanup();
    };
  }, [series, theme]);

  const current = status.value;
  return (
    <figure class="usage-chart" data-testid="usage-chart" data-state={current.state}>
      <div ref={host} class="usage-chart-host" role="img" aria-label={label} />
      {current.state === "loading" && <p class="muted small">Loading the chart…</p>}
      {current.state === "failed" && (
        <p class="form-error" role="alert">
          The chart could not be loaded: {current.error}
        </p>
      )}
    </figure>
  );
}
