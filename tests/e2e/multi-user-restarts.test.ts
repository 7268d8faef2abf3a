/**
 * `kill -9` of `oqto serve --multi-user` during two users' streaming turns, then a restart, ten
 * times over: the runners live on and are adopted (exactly one per user, no orphaned runner,
 * history service or pi), each turn ends once with its messages in history exactly once, and a
 * client that reconnects with the last seq it saw gets every missed event, none twice.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { processesOf } from "../../src/privileged/linux-users.ts";
import { lookupAccount } from "../../src/shared/linux-account.ts";
import { census, cmdline } from "../helpers/linux-processes.ts";
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

/** A registered user with a workspace and a created session, and the socket that created it. */
async function withSession(name: string, workspaceName: string): Promise<Person & { mux: MuxClient }> {
  const token = await stack.register(name, PASSWORD);
  const ws = await fetch(`${stack.baseUrl}/api/workspaces`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ name: workspaceName }),
  });
  const workspace = ((await ws.json()) as { path: string }).path;
  const mux = await MuxClient.connect(stack.wsUrl, token);
  const sessionId = newSessionId();
  expect(
    (await mux.command(sessionId, "session.create", { config: { harness: "pi", cwd: workspace } })).success,
  ).toBe(true);
  return { name, token, uid: lookupAccount(`oqto_${name}`).uid, workspace, sessionId, mux };
}

describe.skipIf(!isRoot)("multi-user restarts", () => {
  test(`${ROUNDS} times: SIGKILL of serve mid-turn, restart, catch up by seq, one runner per user`, async () => {
    const people: Person[] = [];
    for (const name of ["dora", "emil"]) {
      const { mux, ...person } = await withSession(name, "long");
      mux.close();
      people.push(person);
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

    // Each turn's prompt and answer are in history exactly once. The LLM gateway lives in serve, so the
    // kill cut each answer's LLM stream: history keeps what had streamed, from the first word on.
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
        const expected = (expectedTexts.get(`${person.name}${round}`) ?? []).join("");
        expect(answer.length).toBeGreaterThan(0);
        expect(expected.startsWith(answer)).toBe(true);
      }
    }
  }, 300_000);
});

describe.skipIf(!isRoot)("a runner killed mid-turn", () => {
  test("its user gets agent.error within 2 s, history keeps the prompt and what streamed, chat goes on; the other user streams on", async () => {
    const people = [await withSession("fay", "cut"), await withSession("gus", "cut")];
    const [fay, gus] = people as [Person & { mux: MuxClient }, Person & { mux: MuxClient }];
    const words = (who: string) => Array.from({ length: 200 }, (_, i) => `${who}${i} `);
    const marks = people.map((person) => person.mux.frames.length);
    for (const person of people) {
      stack.fakeLlm.script([{ match: `${person.name} streams`, text: words(person.name), delayMs: 25 }]);
      expect(
        (await person.mux.command(person.sessionId, "prompt", { message: `${person.name} streams` })).success,
      ).toBe(true);
    }
    const deltas = (person: Person & { mux: MuxClient }, from: number) =>
      person.mux.frames
        .slice(from)
        .filter((f) => f.session_id === person.sessionId && f.event === "stream.text_delta");
    // Long enough for a checkpoint (every 2 s) of fay's answer.
    const deadline = Date.now() + 20_000;
    while (deltas(fay, marks[0] ?? 0).length < 100 && Date.now() < deadline) await Bun.sleep(20);
    const runner =
      census(fay.uid).runners === 1
        ? processesOf(fay.uid).find((pid) => cmdline(pid).includes("runner"))
        : undefined;
    expect(runner).toBeDefined();
    const killedAt = Date.now();
    process.kill(runner as number, "SIGKILL");

    const error = await fay.mux.waitFor(
      (f) => f.session_id === fay.sessionId && f.event === "agent.error",
      2_000,
      marks[0],
    );
    expect(Date.now() - killedAt).toBeLessThan(2_000);
    expect(error).toMatchObject({ code: "runner_unavailable", recoverable: true });
    await fay.mux.waitFor((f) => f.session_id === fay.sessionId && f.event === "agent.idle", 2_000, marks[0]);

    // gus's stream is not disturbed: it ends complete, its seqs contiguous.
    await gus.mux.event(gus.sessionId, "agent.idle", marks[1], 60_000);
    const gusSeqs = seqsOf(gus.mux.frames.slice(marks[1]), gus.sessionId);
    expect(gusSeqs).toEqual(Array.from({ length: gusSeqs.length }, (_, i) => (gusSeqs[0] as number) + i));
    expect(
      deltas(gus, marks[1] ?? 0)
        .map((f) => String(f.delta))
        .join(""),
    ).toBe(words("gus").join(""));

    // fay's runner comes back (asked for again by the server), and her history has the turn so far.
    const back = Date.now() + 30_000;
    while (census(fay.uid).runners !== 1 && Date.now() < back) await Bun.sleep(100);
    expect(census(fay.uid).runners).toBe(1);
    const history = await fetch(`${stack.baseUrl}/api/sessions/${fay.sessionId}/messages`, {
      headers: { authorization: `Bearer ${fay.token}` },
    });
    const { messages } = (await history.json()) as {
      messages: { role: string; parts: { text?: string }[]; metadata?: Record<string, unknown> }[];
    };
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(messages[0]?.parts[0]?.text).toBe("fay streams");
    const kept = (messages[1]?.parts ?? []).map((p) => p.text ?? "").join("");
    expect(messages[1]?.metadata?.interrupted).toBe(true);
    expect(kept).toStartWith("fay0 fay1 ");
    expect(kept.length).toBeLessThan(words("fay").join("").length);

    // And fay can chat again in the same session.
    fay.mux.close();
    const again = await MuxClient.connect(stack.wsUrl, fay.token);
    expect(
      (
        await again.command(fay.sessionId, "session.create", {
          config: { harness: "pi", cwd: fay.workspace },
        })
      ).success,
    ).toBe(true);
    stack.fakeLlm.script([{ match: "fay again", text: "back again" }]);
    const from = again.frames.length;
    expect((await again.command(fay.sessionId, "prompt", { message: "fay again" })).success).toBe(true);
    await again.event(fay.sessionId, "agent.idle", from, 60_000);
    const answer = again.frames
      .slice(from)
      .filter((f) => f.session_id === fay.sessionId && f.event === "stream.text_delta")
      .map((f) => String(f.delta))
      .join("");
    expect(answer).toBe("back again");
    again.close();
    gus.mux.close();
  }, 120_000);
});
