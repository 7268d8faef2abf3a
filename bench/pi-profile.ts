/**
 * A CPU profile of pi streaming in RPC mode (Bun's --cpu-prof), to see where pi's CPU per delta goes:
 * real pi behind the lean front end or pi's own RPC mode, answers of K deltas D ms apart from the fake
 * LLM. Prints the functions with the most self time.
 *
 *   bun bench/pi-profile.ts [--wire lean|full] [--deltas 400] [--delay-ms 10] [--turns 3] [--top 25]
 */
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { RunnerEnv } from "../tests/fixtures/runner-env.ts";
import { piWires, RawPi } from "../tests/helpers/pi-raw-turn.ts";

const { values } = parseArgs({
  options: {
    wire: { type: "string", default: "lean" },
    deltas: { type: "string", default: "400" },
    "delay-ms": { type: "string", default: "10" },
    turns: { type: "string", default: "3" },
    top: { type: "string", default: "25" },
  },
});

const env = await RunnerEnv.start();
const spec = piWires(env, "bench-profile");
const profileDir = mkdtempSync("/tmp/oqto-pi-prof-");
const [runtime, ...piArgs] = (values.wire === "lean" ? spec.lean : spec.full) as [string, ...string[]];
const pi = new RawPi(
  [runtime, "--cpu-prof", "--cpu-prof-dir", profileDir, ...piArgs],
  spec.env,
  env.workspace,
);
await pi.ready();
const text = Array.from({ length: Number(values.deltas) }, (_, i) => `token ${i} `);
for (let turn = 0; turn < Number(values.turns); turn++) {
  env.llm.script([{ text, delayMs: Number(values["delay-ms"]) }]);
  const done = await pi.turn("go");
  console.error(`turn ${turn}: ${done.cpuMs} ms CPU for ${text.length} deltas`);
}
await pi.close();
await env.stop();

const Profile = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      children: z.array(z.number()).optional(),
      callFrame: z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number() }),
    }),
  ),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});
const file = readdirSync(profileDir).find((f) => f.endsWith(".cpuprofile"));
if (!file) throw new Error(`no profile written to ${profileDir}`);
const profile = Profile.parse(JSON.parse(readFileSync(join(profileDir, file), "utf8")));
const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
const parentOf = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

/** What a stack is doing, judged from its innermost frame that says so. */
const AREAS: Array<[string, (f: { functionName: string; url: string }) => boolean]> = [
  [
    "stdout write (pi's RPC output)",
    (f) => f.functionName === "writeRawStdout" || f.functionName === "writeFast",
  ],
  ["JSON.stringify", (f) => f.functionName === "stringify"],
  ["JSON.parse", (f) => f.functionName === "parse" && f.url === ""],
  ["Oqto's lean front end", (f) => f.url.includes("[eval]")],
  ["extension loading (jiti)", (f) => f.url.includes("jiti/")],
  ["openai SDK: SSE decoding", (f) => f.url.includes("openai/")],
  ["pi-ai: provider stream", (f) => f.url.includes("pi-ai/")],
  ["pi-agent-core: agent loop", (f) => f.url.includes("pi-agent-core/")],
  ["pi-coding-agent: session, extensions, RPC", (f) => f.url.includes("pi-coding-agent/")],
];

// Samples are counted, not weighted by timeDeltas: Bun's deltas include the idle time before a sample.
const self = new Map<string, number>();
const areas = new Map<string, number>();
for (const id of profile.samples) {
  const frame = byNode.get(id)?.callFrame;
  if (!frame || frame.functionName === "(idle)") continue;
  const where = frame.url
    ? `${frame.url.replace(/.*node_modules\//, "")}:${frame.lineNumber + 1}`
    : "(native)";
  const key = `${frame.functionName || "(anonymous)"} ${where}`;
  self.set(key, (self.get(key) ?? 0) + 1);
  let area = "runtime (native, GC, event loop)";
  for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
    const f = byNode.get(at)?.callFrame;
    const match = f && AREAS.find(([, test]) => test(f));
    if (match) {
      area = match[0];
      break;
    }
  }
  areas.set(area, (areas.get(area) ?? 0) + 1);
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const share = (n: number) => `${((100 * n) / total).toFixed(1)} %`;
console.log(
  `\npi (${values.wire} wire), ${values.turns} answers of ${values.deltas} deltas ${values["delay-ms"]} ms apart: ${total} samples\n`,
);
console.log("| where (innermost frame that says) | samples | share |");
console.log("|---|---:|---:|");
for (const [area, n] of [...areas.entries()].sort((a, b) => b[1] - a[1]))
  console.log(`| ${area} | ${n} | ${share(n)} |`);
console.log("\n| self samples | share | function |");
console.log("|---:|---:|---|");
for (const [key, n] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
  console.log(`| ${n} | ${share(n)} | ${key.replaceAll("|", "\\|")} |`);
}
