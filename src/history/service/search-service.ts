import type { Database } from "bun:sqlite";
import type { ServiceImpl } from "@connectrpc/connect";
import { SearchMode, type SearchService } from "../../gen/hstry_service_pb.ts";
import { toCount } from "./request-checks.ts";
import { invalidArgument } from "./rpc-errors.ts";
import { chooseSearchIndex, toMatchExpression } from "./search-query.ts";
import { searchHitToProto, searchMessages } from "./search-store.ts";

const DEFAULT_LIMIT = 50;
const KNOWN_MODES = new Set<number>([SearchMode.AUTO, SearchMode.NATURAL, SearchMode.CODE]);

/** SearchService over the FTS5 indexes of the history DB. */
export function createSearchService(db: Database): ServiceImpl<typeof SearchService> {
  return {
    search(request) {
      const match = toMatchExpression(request.query);
      if (match === null) throw invalidArgument("query is required");
      if (!KNOWN_MODES.has(request.mode)) throw invalidArgument(`unknown search mode ${request.mode}`);
      const limit = toCount(request.limit, "limit");
      const page = { limit: limit > 0 ? limit : DEFAULT_LIMIT, offset: toCount(request.offset, "offset") };
      const filters = {
        source: request.source,
        workspace: request.workspace,
        afterMs: toCount(request.afterMs, "after_ms"),
        beforeMs: toCount(request.beforeMs, "before_ms"),
        role: request.role,
        model: request.model,
        harness: request.harness,
        tag: request.tag,
      };
      const index = chooseSearchIndex(request.mode, request.query);
      return db.transaction(() => ({
        hits: searchMessages(db, index, match, filters, page).map(searchHitToProto),
      }))();
    },
  };
}
