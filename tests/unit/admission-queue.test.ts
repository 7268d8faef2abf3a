import { describe, expect, test } from "bun:test";
import { ConfigSchema } from "../../src/config/schema.ts";
import { admissionLimit, SESSIONS_PER_CORE } from "../../src/server/admission/admission-limit.ts";
import { AdmissionQueue } from "../../src/server/admission/admission-queue.ts";

describe("AdmissionQueue", () => {
  test("starts sessions while there is room, then queues them FIFO with positions", () => {
    const q = new AdmissionQueue<string>(2);
    expect(q.tryStart("a", 1)).toBe(true);
    expect(q.tryStart("b", 2)).toBe(true);
    expect(q.tryStart("a", 3)).toBe(true); // already generating
    expect(q.tryStart("c", 4)).toBe(false);
    expect(q.enqueue("c", "C", 4)).toBe(1);
    expect(q.tryStart("d", 5)).toBe(false);
    expect(q.enqueue("d", "D", 5)).toBe(2);
    expect(q.enqueue("e", "E", 6)).toBe(3);
    expect(q.position("c")).toBe(1);
    expect(q.position("e")).toBe(3);
    expect(q.position("a")).toBeNull();
    expect(q.generatingCount).toBe(2);
    expect(() => q.enqueue("c", "again", 7)).toThrow(/already queued/);
  });

  test("admits in order as turns end", () => {
    const q = new AdmissionQueue<string>(1);
    q.tryStart("a", 0);
    for (const [i, id] of ["b", "c", "d"].entries()) q.enqueue(id, id.toUpperCase(), i);
    expect(q.admit(10)).toEqual([]); // no room yet
    expect(q.finish("a")).toBe(true);
    expect(q.admit(11).map((e) => e.sessionId)).toEqual(["b"]);
    expect(q.isGenerating("b")).toBe(true);
    expect(q.position("c")).toBe(1);
    q.finish("b");
    expect(q.admit(12).map((e) => e.item)).toEqual(["C"]);
    q.finish("c");
    expect(q.admit(13).map((e) => e.sessionId)).toEqual(["d"]);
    expect(q.queuedCount).toBe(0);
  });

  test("removing a queued session moves those behind it up", () => {
    const q = new AdmissionQueue<null>(1);
    q.tryStart("a", 0);
    for (const id of ["b", "c", "d"]) q.enqueue(id, null, 1);
    expect(q.remove("c")?.sessionId).toBe("c");
    expect(q.remove("c")).toBeUndefined();
    expect(q.position("b")).toBe(1);
    expect(q.position("d")).toBe(2);
    q.finish("a");
    expect(q.admit(2).map((e) => e.sessionId)).toEqual(["b"]);
  });

  test("nobody overtakes the queue, and turns the runner started count too", () => {
    const q = new AdmissionQueue<null>(1);
    q.tryStart("a", 0);
    q.enqueue("b", null, 1);
    q.markGenerating("x", 2); // a turn pi started by itself
    expect(q.generatingCount).toBe(2);
    q.finish("a");
    expect(q.admit(3)).toEqual([]); // still at the limit (x)
    expect(q.tryStart("c", 3)).toBe(false); // room or not, b waits first
    q.finish("x");
    expect(q.admit(4).map((e) => e.sessionId)).toEqual(["b"]);
    expect(q.generatingSessions().map((s) => s.sessionId)).toEqual(["b"]);
  });

  test("limit 0 is unlimited; a negative limit is refused", () => {
    const q = new AdmissionQueue<null>(0);
    for (let i = 0; i < 1000; i++) expect(q.tryStart(`s${i}`, i)).toBe(true);
    expect(() => new AdmissionQueue(-1)).toThrow();
  });
});

describe("admission limit", () => {
  test("defaults to 15 per core; the config overrides it; unknown keys are errors", () => {
    const config = ConfigSchema.parse({});
    expect(admissionLimit(config, 2)).toBe(2 * SESSIONS_PER_CORE);
    expect(SESSIONS_PER_CORE).toBe(15);
    expect(admissionLimit(ConfigSchema.parse({ admission: { max_generating_sessions: 3 } }), 8)).toBe(3);
    expect(admissionLimit(ConfigSchema.parse({ admission: { max_generating_sessions: 0 } }), 8)).toBe(0);
    expect(ConfigSchema.safeParse({ admission: { max_sessions: 3 } }).success).toBe(false);
    expect(ConfigSchema.safeParse({ admission: { max_generating_sessions: -1 } }).success).toBe(false);
  });
});
