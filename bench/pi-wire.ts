/**
 * pi's stdout per streamed delta: pi's own RPC mode against Oqto's lean front end
 * (src/runner/harness/pi/lean-rpc.ts), real pi, one answer of K text deltas from the fake LLM, sent at
 * once and D ms apart. Prints the bytes pi writes and the CPU it spends per delta, side by side in
 * one run; the two wires alternate turn by turn so load elsewhere hits both alike.
 *
 *   bun bench/pi-wire.ts [--deltas 200] [--delay-ms 10] [--rounds 5]
 */
import { parseArgs } from "node:util";
import { RunnerEnv } from "../tests/fixtures/runner-env.ts";
import { piWires, RawPi } from "../tests/helpers/pi-raw-turn.ts";

const { values } = parseArgs({
  options: {
    deltas: { type: "string", default: "200" },
    "delay-ms": { type: "string", default: "10" },
    rounds: { type: "string", default: "5" },
  },
});
const DELTAS = Number(values.deltas);
const DELAY_MS = Number(values["delay-ms"]);
const ROUNDS = Number(values.rounds);

const env = await RunnerEnv.start();
const spec = piWires(env, "bench-wire");
const wires = { "pi --mode rpc": spec.full, "lean front end": spec.lean };
const text = Array.from({ length: DELTAS }, (_, i) => `token ${i} `);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

type Row = { bytes: number[]; cpuPerDelta: number[] };
const results: Record<string, Record<string, Row>> = {};
for (const pacing of [0, DELAY_MS]) {
  const label = pacing === 0 ? "at once" : `${pacing} ms apart`;
  results[label] = {};
  const pis = Object.fromEntries(
    Object.entries(wires).map(([name, argv]) => [name, new RawPi(argv, spec.env, env.workspace)]),
  );
  for (const pi of Object.values(pis)) await pi.ready();
  for (let round = 0; round < ROUNDS + 1; round++) {
    for (const [name, pi] of Object.entries(pis)) {
      env.llm.script([{ text, ...(pacing ? { delayMs: pacing } : {}) }]);
      const turn = await pi.turn("go");
      if (round === 0) continue; // warm-up
      const rows = results[label] as Record<string, Row>;
      const row = rows[name] ?? { bytes: [], cpuPerDelta: [] };
      rows[name] = row;
      row.bytes.push(turn.bytes);
      row.cpuPerDelta.push(turn.cpuMs / DELTAS);
      console.error(`${label} ${name} round ${round}: ${turn.bytes} bytes, ${turn.cpuMs} ms CPU`);
    }
  }
  for (const pi of Object.values(pis)) await pi.close();
}
await env.stop();

console.log(`\npi's stdout for one answer of ${DELTAS} text deltas, median of ${ROUNDS} turns each\n`);
console.log("| deltas sent | wire | bytes written | CPU per delta (ms) | bytes / lean | CPU / lean |");
console.log("|---|---|---:|---:|---:|---:|");
for (const [label, rows] of Object.entries(results)) {
  const lean = rows["lean front end"] as Row;
  for (const [name, row] of Object.entries(rows)) {
    const bytes = median(row.bytes);
    const cpu = median(row.cpuPerDelta);
    console.log(
      `| ${label} | ${name} | ${bytes} | ${cpu.toFixed(3)} | ${(bytes / median(lean.bytes)).toFixed(1)} | ${(cpu / median(lean.cpuPerDelta)).toFixed(2)} |`,
    );
  }
}
