import { HistoryFrame, ProtocolError } from "../../protocol/index.ts";
import type { HistoryGateway } from "../history-gateway.ts";
import type { MuxConnection } from "./mux-connection.ts";

/** The mux `history` channel (PROTOCOL.md §2.4): the same reads as REST, over the socket. */
export class HistoryChannel {
  constructor(
    private readonly history: HistoryGateway,
    private readonly log: (message: string) => void,
  ) {}

  async handle(conn: MuxConnection, raw: Record<string, unknown>): Promise<void> {
    const accepted = conn.accept("history", HistoryFrame, raw, "misc");
    if (!accepted) return;
    const { frame, id } = accepted;
    const reply = (type: string, body: object) =>
      conn.sendJson({ channel: "history", ...(id === undefined ? {} : { id }), type, ...body });
    try {
      const { user } = conn;
      switch (frame.type) {
        case "list": {
          const { channel: _c, id: _i, type: _t, ...params } = frame;
          reply("list_result", await this.history.list(user, params));
          break;
        }
        case "get": {
          // A missing session and another user's read the same: null.
          const session = await this.history.get(user, frame.session_id).catch((error: unknown) => {
            if (error instanceof ProtocolError && error.code === "session_not_found") return null;
            throw error;
          });
          reply("get_result", { session });
          break;
        }
        case "messages":
          reply("messages_result", await this.history.messages(user, frame.session_id, frame.limit));
          break;
        case "search": {
          const { channel: _c, id: _i, type: _t, ...params } = frame;
          reply("search_result", await this.history.search(user, params));
          break;
        }
      }
    } catch (error) {
      const known = error instanceof ProtocolError;
      if (!known) this.log(`history ${frame.type} failed: ${(error as Error).stack}`);
      conn.sendError("history", known ? error.code : "internal", (error as Error).message, id);
    } finally {
      conn.release("misc");
    }
  }
}
