import { basename } from "node:path";
import type { SearchHit, SessionSummary } from "../protocol/history.ts";
import type { Message } from "../protocol/message.ts";

const CELL_CHARS = 60;

function oneLine(text: string, max = CELL_CHARS): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function time(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** `oqto sessions list`: a header row and one row per session. */
export function sessionRows(sessions: SessionSummary[]): string[][] {
  return [
    ["ID", "WORKSPACE", "UPDATED", "MESSAGES", "STATE", "TITLE"],
    ...sessions.map((s) => [
      s.session_id,
      basename(s.workspace_path),
      time(s.updated_at),
      String(s.message_count),
      s.live?.state ?? "-",
      oneLine(s.title ?? s.first_user_message ?? ""),
    ]),
  ];
}

/** `oqto sessions search`: a header row and one row per hit. */
export function searchRows(hits: SearchHit[]): string[][] {
  return [
    ["SESSION", "ROLE", "WHEN", "SNIPPET"],
    ...hits.map((h) => [h.session_id, h.role, time(h.created_at), oneLine(h.snippet, 80)]),
  ];
}

function partText(part: Message["parts"][number]): string | undefined {
  switch (part.type) {
    case "text":
      return part.text;
    case "tool_call":
      return `[tool] ${part.name} ${oneLine(JSON.stringify(part.input ?? {}), 120)}`;
    case "tool_result": {
      const output = typeof part.output === "string" ? part.output : JSON.stringify(part.output ?? "");
      return `[${part.isError ? "error" : "result"}] ${oneLine(output, 120)}`;
    }
    case "file_ref":
      return `[file] ${part.uri}`;
    case "image":
      return `[image]${part.alt ? ` ${part.alt}` : ""}`;
    default:
      // Thinking is the model's scratch work, not the conversation.
      return undefined;
  }
}

/** `oqto sessions show`: the session's header, then each message under its role. */
export function conversationText(session: SessionSummary, messages: Message[]): string {
  const head = [
    `session   ${session.session_id}`,
    `title     ${session.title ?? "-"}`,
    `workspace ${session.workspace_path}`,
    ...(session.model ? [`model     ${session.provider ? `${session.provider}/` : ""}${session.model}`] : []),
    `updated   ${time(session.updated_at)} (${session.message_count} messages)`,
  ];
  const body = messages.map((m) => {
    const parts = m.parts.map(partText).filter((p): p is string => p !== undefined && p !== "");
    const error =
      typeof m.metadata?.error_message === "string" ? [`[error] ${m.metadata.error_message}`] : [];
    return [`--- ${m.role} (${time(m.created_at)})`, ...parts, ...error].join("\n");
  });
  return [head.join("\n"), ...body].join("\n\n");
}
