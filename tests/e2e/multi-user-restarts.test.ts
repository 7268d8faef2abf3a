/**
 * `kill -9` of `oqto serve --multi-user` during two users' streaming turns, then a restart, ten
 * times over: the runners live on and are adopted (exactly one per user, no orphaned runner,
 * history service or pi), each turn ends once with its messages in history exactly once, and a
 * client that reconnects with the last seq it saw gets every missed event, none twice.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { processesOf } from "../../src/privileged/linux-users.ts";
import { lookupAccount } from "../../src/shared/linux-account.ts";
import { type MultiUserStack, startMultiUserStack } from "../helpers/multi-user-stack.ts";
import { type Frame, MuxClient, newSessionId } from "../helpers/mux-client.ts";

const isRoot = process.getuid?.() === 0;
const ROUNDS = 10;
const PASSWORD = "harbor-violet-engine-61";

let stack: MultiUserStack;

beforeAll(async () => {
  if (isRoot) stack = await startMultiUserStack();
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  } catch {
    return [];
  }
}

/** The user's `oqto runner`, `oqto hstry` and pi processes. */
function census(uid: number): { runners: number; hstry: number; pi: number } {
  const argvs = processesOf(uid).map(cmdline);
  return {
    runners: argvs.filter((argv) => argv.includes("runner")).length,
    hstry: argvs.filter((argv) => argv.includes("hstry")).length,
    pi: argvs.filter((argv) => argv.includes("rpc") && !argv[0]?.endsWith("bwrap")).length,
  };
}

interface Person {
  name: string;
  token: string;
  uid: number;
  workspace: string;
  sessionId: string;
}

const seqsOf = (frames: Frame[], sessionId: string) =>
  frames
    .filter((f) => f.channel === "agent" && f.session_id === sessionId && f.event !== "response")
    .map((f) => f.seq as number);

describe.skipIf(!isRoot)("multi-user restarts", () => {
  test(`${ROUNDS} times: SIGKILL of serve mid-turn, restart, catch up by seq, one runner per user`, async () => {
    const people: Person[] = [];
    for (const name of ["dora", "emil"]) {
      const token = await stack.register(name, PASSWORD);
      const ws = await fetch(`${stack.baseUrl}/api/workspaces`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "long" }),
      });
      const workspace = ((await ws.json()) as { path: string }).path;
      const mux = await MuxClient.connect(stack.wsUrl, token);
      const sessionId = newSessionId();
      expect(
        (await mux.command(sessionId, "session.create", { config: { harness: "pi", cwd: workspace } }))
          .success,
      ).toBe(true);
      mux.close();
      people.push({ name, token, uid: lookupAccount(`oqto_${name}`).uid, workspace, sessionId });
    }
    const expectedTexts = new Map<string, string[]>();

    for (let round = 0; round < ROUNDS; round++) {
      const clients = await Promise.all(people.map((person) => MuxClient.connect(stack.wsUrl, person.token)));
      const marks: number[] = [];
      for (const [index, person] of people.entries()) {
        const client = clients[index] as MuxClient;
        expect((await client.command(person.sessionId, "session.subscribe", {})).success).toBe(true);
        const words = Array.from({ length: 120 }, (_, i) => `${person.name}${round}w${i} `);
        expectedTexts.set(`${person.name}${round}`, words);
        stack.fakeLlm.script([{ match: `${person.name} round ${round}`, text: words, delayMs: 25 }]);
        marks.push(client.frames.length);
        expect(
          (await client.command(person.sessionId, "prompt", { message: `${person.name} round ${round}` }))
            .success,
        ).toBe(true);
      }
      // Both turns are streaming: then the server dies without a word.
      for (const [index, person] of people.entries()) {
        const client = clients[index] as MuxClient;
        await client.waitFor(
          (f) => f.session_id === person.sessionId && f.event === "stream.text_delta",
          30_000,
          marks[index],
        );
      }
      const seen = people.map((person, index) =>
        seqsOf((clients[index] as MuxClient).frames, person.sessionId),
      );
      await stack.killServe("SIGKILL");
      for (const client of clients) client.close();
      await stack.startServe();

      for (const [index, person] of people.entries()) {
        const lastSeq = Math.max(0, ...(seen[index] ?? []));
        const again = await MuxClient.connect(stack.wsUrl, person.token);
        const sub = await again.command(person.sessionId, "session.subscribe", { after_seq: lastSeq });
        expect(sub.success).toBe(true);
        await again.event(person.sessionId, "agent.idle", 0, 60_000);
        const caughtUp = seqsOf(again.frames, person.sessionId);
        // Every missed event, in order, none twice, continuing right after the last one seen.
        expect(caughtUp[0]).toBe(lastSeq + 1);
        expect(caughtUp).toEqual(Array.from({ length: caughtUp.length }, (_, i) => lastSeq + 1 + i));
        again.close();
        // Exactly one runner, one history service, at most one pi for the one session: nothing orphaned.
        expect(census(person.uid)).toEqual({ runners: 1, hstry: 1, pi: 1 });
      }
    }

    // Each turn's prompt and answer are in history exactly once, complete.
    for (const person of people) {
      const res = await fetch(`${stack.baseUrl}/api/sessions/${person.sessionId}/messages`, {
        headers: { authorization: `Bearer ${person.token}` },
      });
      const { messages } = (await res.json()) as { messages: { role: string; parts: { text?: string }[] }[] };
      expect(messages.map((m) => m.role)).toEqual(
        Array.from({ length: ROUNDS }, () => ["user", "assistant"]).flat(),
      );
      for (let round = 0; round < ROUNDS; round++) {
        expect(messages[2 * round]?.parts[0]?.text).toBe(`${person.name} round ${round}`);
        const answer = (messages[2 * round + 1]?.parts ?? []).map((p) => p.text ?? "").join("");
        expect(answer).toBe((expectedTexts.get(`${person.name}${round}`) ?? []).join(""));
      }
    }
  }, 300_000);
});
