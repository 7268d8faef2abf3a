/** serve's exposition writer against the tests' strict reader, and the reader's own strictness. */
import { expect, test } from "bun:test";
import { exposition } from "../../src/server/metrics/prometheus-text.ts";
import { parsePrometheusText, sampleValue } from "../helpers/prometheus-text.ts";

test("label values and help text with quotes, backslashes and newlines come back as they were", () => {
  const tricky = 'a "quoted" back\\slash\nand a newline';
  const text = exposition([
    {
      name: "oqto_test_total",
      help: "help with \\ and\nnewline",
      type: "counter",
      samples: [
        { labels: { path: tricky }, value: 3 },
        { labels: { path: "plain" }, value: 1.5e21 },
      ],
    },
    { name: "oqto_test_gauge", help: "odd values", type: "gauge", samples: [{ value: Number.NaN }] },
  ]);
  const families = parsePrometheusText(text);
  expect(families.get("oqto_test_total")?.help).toBe("help with \\ and\nnewline");
  expect(families.get("oqto_test_total")?.type).toBe("counter");
  expect(sampleValue(families, "oqto_test_total", { path: tricky })).toBe(3);
  expect(sampleValue(families, "oqto_test_total", { path: "plain" })).toBe(1.5e21);
  expect(sampleValue(families, "oqto_test_gauge")).toBeNaN();
});

test("the writer refuses names the format does not allow", () => {
  expect(() => exposition([{ name: "oqto-bad", help: "", type: "gauge", samples: [] }])).toThrow(
    /metric name/,
  );
  expect(() =>
    exposition([
      { name: "oqto_ok", help: "", type: "gauge", samples: [{ labels: { "1x": "v" }, value: 1 }] },
    ]),
  ).toThrow(/label name/);
});

test("the strict reader refuses what the format does not allow", () => {
  const bad = [
    "oqto_x 1", // no trailing newline
    "oqto_x one\n",
    'oqto_x{a="b} 1\n',
    'oqto_x{a="\\t"} 1\n',
    'oqto_x{a="1",a="2"} 1\n',
    "oqto_x 1\noqto_x 2\n",
    "oqto_x 1\n# TYPE oqto_x gauge\n",
    "# TYPE oqto_x gauge\n# TYPE oqto_y nonsense\n",
    'oqto_x 1\noqto_y 1\noqto_x{a="b"} 2\n',
  ];
  for (const text of bad) expect(() => parsePrometheusText(text)).toThrow();
});
