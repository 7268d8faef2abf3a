/** Search ranks at most SEARCH_CANDIDATES matches, newest first, after the filters (search-store.ts). */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { SEARCH_CANDIDATES } from "../../src/history/service/search-store.ts";
import { type EmbeddedHstry, startEmbeddedHstry } from "./helpers.ts";

let hstry: EmbeddedHstry;

beforeAll(async () => {
  hstry = await startEmbeddedHstry();
  // Written first, so it is the oldest match, and the best one: the term four times in a short text.
  await hstry.client.write.writeConversation({
    conversation: { sourceId: "pi", externalId: "old", createdAtMs: 1n, workspace: "/old" },
    messages: [{ idx: 0, role: "user", content: "needle needle needle needle" }],
  });
  await hstry.client.write.writeConversation({
    conversation: { sourceId: "pi", externalId: "bulk", createdAtMs: 2n, workspace: "/bulk" },
    messages: Array.from({ length: SEARCH_CANDIDATES }, (_, idx) => ({
      idx,
      role: "assistant",
      content: `a needle somewhere in haystack number ${idx} with padding words around it`,
    })),
  });
}, 30_000);
afterAll(() => hstry.close());

test("with more matches than the window, the newest matches are ranked", async () => {
  const { hits } = await hstry.client.search.search({ query: "needle", limit: 5n });
  expect(hits).toHaveLength(5);
  expect(hits.every((hit) => hit.externalId === "bulk")).toBe(true);
});

test("filters apply before the window, so a narrower search still finds older matches", async () => {
  const { hits } = await hstry.client.search.search({ query: "needle", workspace: "/old" });
  expect(hits.map((hit) => hit.externalId)).toEqual(["old"]);
});

test("paging past the window widens it instead of returning nothing", async () => {
  const { hits } = await hstry.client.search.search({
    query: "needle",
    limit: 5n,
    offset: BigInt(SEARCH_CANDIDATES - 2),
  });
  // 10,001 matches: an unwidened window of 10,000 would leave 2 hits here
  expect(hits).toHaveLength(3);
});
