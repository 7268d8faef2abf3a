/**
 * A strict reader of the Prometheus text exposition format 0.0.4, written from the format's
 * description, for tests: anything the format does not allow is an error naming the line.
 */
export interface ParsedFamily {
  name: string;
  help?: string;
  type: "counter" | "gauge" | "histogram" | "summary" | "untyped";
  samples: Array<{ labels: Record<string, string>; value: number }>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const FLOAT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseValue(text: string, where: string): number {
  if (text === "NaN") return Number.NaN;
  if (text === "+Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  if (!FLOAT.test(text)) throw new Error(`${where}: '${text}' is not a float`);
  return Number(text);
}

/** `{a="x",b="y"}` with the format's three escapes; returns the labels and the rest of the line. */
function parseLabels(text: string, where: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  if (!text.startsWith("{")) return { labels, rest: text };
  let i = 1;
  while (text[i] !== "}") {
    const eq = text.indexOf("=", i);
    if (eq < 0) throw new Error(`${where}: a label without '='`);
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new Error(`${where}: bad label name '${name}'`);
    if (name in labels) throw new Error(`${where}: label '${name}' twice`);
    if (text[eq + 1] !== '"') throw new Error(`${where}: label value not quoted`);
    let value = "";
    let j = eq + 2;
    for (;;) {
      const char = text[j];
      if (char === undefined || char === "\n") throw new Error(`${where}: unterminated label value`);
      if (char === '"') break;
      if (char === "\\") {
        const next = text[j + 1];
        if (next === "\\" || next === '"') value += next;
        else if (next === "n") value += "\n";
        else throw new Error(`${where}: bad escape '\\${next}' in a label value`);
        j += 2;
      } else {
        value += char;
        j++;
      }
    }
    labels[name] = value;
    i = j + 1;
    if (text[i] === ",") i++;
    else if (text[i] !== "}") throw new Error(`${where}: expected ',' or '}' after a label`);
  }
  return { labels, rest: text.slice(i + 1) };
}

/** Every family of an exposition, in order; throws on the first line the format does not allow. */
export function parsePrometheusText(text: string): Map<string, ParsedFamily> {
  if (!text.endsWith("\n")) throw new Error("the exposition does not end with a newline");
  const families = new Map<string, ParsedFamily>();
  const series = new Set<string>();
  let current: ParsedFamily | undefined;
  const family = (name: string) => {
    let found = families.get(name);
    if (!found) {
      found = { name, type: "untyped", samples: [] };
      families.set(name, found);
    }
    return found;
  };
  text
    .slice(0, -1)
    .split("\n")
    .forEach((line, index) => {
      const where = `line ${index + 1}`;
      if (line.trim() === "") return;
      const meta = /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(line);
      if (meta) {
        const [, kind, name = "", rest = ""] = meta;
        if (!NAME.test(name)) throw new Error(`${where}: bad metric name '${name}'`);
        const target = family(name);
        if (target.samples.length > 0) throw new Error(`${where}: ${kind} of ${name} after its samples`);
        if (kind === "HELP") {
          if (target.help !== undefined) throw new Error(`${where}: a second HELP for ${name}`);
          if (/\\[^\\n]/.test(rest.replaceAll("\\\\", ""))) throw new Error(`${where}: bad escape in HELP`);
          target.help = rest.replaceAll("\\n", "\n").replaceAll("\\\\", "\\");
        } else {
          if (!TYPES.has(rest)) throw new Error(`${where}: unknown type '${rest}'`);
          target.type = rest as ParsedFamily["type"];
        }
        current = target;
        return;
      }
      if (line.startsWith("#")) return; // a plain comment
      const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
      if (!name) throw new Error(`${where}: no metric name`);
      const { labels, rest } = parseLabels(line.slice(name.length), where);
      const parts = rest.trim().split(/[ \t]+/);
      if (!/^[ \t]/.test(rest) || parts.length < 1 || parts.length > 2)
        throw new Error(`${where}: expected a value and an optional timestamp`);
      const value = parseValue(parts[0] as string, where);
      if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new Error(`${where}: bad timestamp`);
      // Counter and gauge samples carry their family's own name, and a family's samples are together.
      if (current?.name !== name) {
        if (families.get(name)?.samples.length)
          throw new Error(`${where}: samples of ${name} are not together`);
        current = family(name);
      }
      const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
      if (series.has(key)) throw new Error(`${where}: the series ${key} twice`);
      series.add(key);
      current.samples.push({ labels, value });
    });
  return families;
}

/** The value of one series (its labels exactly); throws when it is missing. */
export function sampleValue(
  families: Map<string, ParsedFamily>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  const sample = families
    .get(name)
    ?.samples.find((candidate) => JSON.stringify(Object.entries(candidate.labels).sort()) === wanted);
  if (!sample) throw new Error(`no sample ${name}${wanted}`);
  return sample.value;
}
