/**
 * The usage chart, drawn with uPlot. Only the Usage page loads this module (with `import()`), so uPlot is
 * a chunk of its own that no other page downloads. uPlot sizes its elements through `element.style`
 * (CSSOM), which the page's Content-Security-Policy does not restrict; its stylesheet is bundled with
 * the UI's own CSS file.
 */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { formatTokenCount, formatUsd } from "../common/format.ts";
import type { DailySeries } from "./usage-days.ts";

export interface UsageChart {
  resize(width: number): void;
  destroy(): void;
}

const HEIGHT_PX = 260;
const DAY_S = 86_400;
const tickDate = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", timeZone: "UTC" });

/** A CSS color (a custom property may be `light-dark(…)`) as the canvas takes it: resolved by the page. */
function resolveColor(host: HTMLElement, cssValue: string): string {
  const probe = document.createElement("span");
  probe.style.color = cssValue;
  host.append(probe);
  const color = getComputedStyle(probe).color;
  probe.remove();
  return color;
}

/** `rgb(r, g, b)` → `rgba(r, g, b, alpha)`, for the bars' fill. */
function withAlpha(color: string, alpha: number): string {
  const match = /^rgba?\(([^)]+)\)$/.exec(color);
  if (!match?.[1]) return color;
  const [r, g, b] = match[1].split(/[\s,/]+/);
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

/** Cost per day as bars (left axis, USD) and tokens per day as a line (right axis), UTC days. */
export function drawUsageChart(host: HTMLElement, series: DailySeries, width: number): UsageChart {
  const accent = resolveColor(host, "var(--accent)");
  const tokensColor = resolveColor(host, "var(--warning)");
  const muted = resolveColor(host, "var(--muted)");
  const grid = resolveColor(host, "var(--border)");
  const axis = { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  const bars = uPlot.paths.bars?.({ size: [0.7, 48], align: 0 });
  const options: uPlot.Options = {
    width,
    height: HEIGHT_PX,
    // Days are UTC days: ticks fall on UTC midnights, whatever the browser's time zone.
    tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), "Etc/UTC"),
    cursor: { points: { show: false }, drag: { x: false, y: false } },
    scales: {
      // Half a day of room on each side, so that the first and last bars are whole (and one day is a range).
      x: { time: true, range: (_u, min, max) => [min - DAY_S / 2, max + DAY_S / 2] },
      usd: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] },
      tokens: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1000] },
    },
    series: [
      {
        value: (_u, seconds) =>
          seconds === null ? "—" : new Date(seconds * 1000).toISOString().slice(0, 10),
      },
      {
        label: "Cost",
        scale: "usd",
        stroke: accent,
        fill: withAlpha(accent, 0.35),
        width: 1,
        ...(bars && { paths: bars }),
        points: { show: false },
        value: (_u, value) => (value === null ? "—" : formatUsd(value)),
      },
      {
        label: "Tokens",
        scale: "tokens",
        stroke: tokensColor,
        width: 2,
        points: { show: series.days.length <= 14, size: 5, fill: tokensColor },
        value: (_u, value) => (value === null ? "—" : formatTokenCount(value)),
      },
    ],
    axes: [
      {
        ...axis,
        incrs: [1, 2, 7, 14, 30, 91, 365].map((days) => days * DAY_S),
        values: (_u, ticks) => ticks.map((tick) => tickDate.format(tick * 1000)),
      },
      {
        ...axis,
        scale: "usd",
        size: 64,
        values: (_u, ticks) => ticks.map((tick) => formatUsd(tick)),
      },
      {
        ...axis,
        scale: "tokens",
        side: 1,
        size: 56,
        grid: { show: false },
        values: (_u, ticks) => ticks.map((tick) => formatTokenCount(tick)),
      },
    ],
  };
  const data: uPlot.AlignedData = [
    series.days.map((day) => Date.parse(`${day}T00:00:00Z`) / 1000),
    series.cost,
    series.tokens,
  ];
  const plot = new uPlot(options, data, host);
  return {
    resize: (next) => plot.setSize({ width: next, height: HEIGHT_PX }),
    destroy: () => plot.destroy(),
  };
}
