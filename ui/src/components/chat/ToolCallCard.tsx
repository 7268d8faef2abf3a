import { useSignal } from "@preact/signals";
import type { ToolCallStatus } from "../../../../src/protocol/index.ts";
import type { ToolCallModel, ToolResultModel } from "../../state/chat/message-model.ts";
import { formatDuration } from "../common/format.ts";
import { ChevronIcon, FileIcon, ToolIcon } from "../common/icons.tsx";
import { CopyButton } from "./CopyButton.tsx";
import type { MessageActions } from "./message-actions.ts";

const STATUS_LABELS: Record<ToolCallStatus, string> = {
  pending: "Preparing",
  running: "Running",
  success: "Done",
  error: "Failed",
};

/** Argument keys that name what a tool works on (pi: read/write/edit take `path`, bash `command`). */
const SUMMARY_KEYS = ["path", "file_path", "command", "pattern", "url", "query"];

/** One line saying what the call does, from the final input or, while it streams, from the JSON so far. */
function summarize(input: { value: unknown } | null, argsText: string): string {
  if (input && typeof input.value === "object" && input.value !== null) {
    const record = input.value as Record<string, unknown>;
    for (const key of SUMMARY_KEYS) {
      const value = record[key];
      if (typeof value === "string" && value.length > 0) return firstLine(value);
    }
    return "";
  }
  for (const key of SUMMARY_KEYS) {
    const match = new RegExp(`"${key}"\\s*:\\s*"((?:[^"\\\\]|\\\\.)*)`).exec(argsText);
    if (match?.[1]) return firstLine(match[1]);
  }
  return "";
}

function firstLine(text: string): string {
  const line = text.split("\n", 1)[0] ?? "";
  return line.length > 120 ? `${line.slice(0, 117)}…` : line;
}

/** pi's file tools name the file they work on in `path`. */
const FILE_TOOLS = new Set(["read", "write", "edit"]);

function filePathOf(name: string, input: { value: unknown } | null): string | null {
  if (!FILE_TOOLS.has(name) || !input || typeof input.value !== "object" || input.value === null) return null;
  const path = (input.value as Record<string, unknown>).path;
  return typeof path === "string" && path.length > 0 ? path : null;
}

function inputText(input: { value: unknown } | null, argsText: string): string {
  if (!input) return argsText;
  return typeof input.value === "string" ? input.value : JSON.stringify(input.value, null, 2);
}

export function ToolCallCard({ call, actions }: { call: ToolCallModel; actions: MessageActions }) {
  const expanded = useSignal<boolean | null>(null);
  const status = call.status.value;
  const input = call.input.value;
  const argsText = call.argsText.value;
  const output = call.output.value;
  const duration = call.durationMs.value;
  // Failures open by themselves; otherwise the card stays compact until the user opens it.
  const open = expanded.value ?? status === "error";
  const bodyId = `tool-${call.toolCallId}`;
  const rawPath = filePathOf(call.name.value, input);
  const filePath = rawPath === null ? null : actions.resolveFile(rawPath);
  return (
    <div class="tool-card" data-status={status} data-tool={call.name.value} data-testid="tool-card">
      <div class="tool-head-row">
        <button
          type="button"
          class="tool-head"
          aria-expanded={open}
          aria-controls={bodyId}
          onClick={() => {
            expanded.value = !open;
          }}
        >
          <span class="tool-chevron" data-open={open}>
            <ChevronIcon size={14} />
          </span>
          <ToolIcon size={14} />
          <span class="tool-name">{call.name.value || "tool"}</span>
          <span class="tool-summary">{summarize(input, argsText)}</span>
          {duration !== null && <span class="tool-duration">{formatDuration(duration)}</span>}
          <span class="tool-status" data-status={status} data-testid="tool-status">
            {STATUS_LABELS[status]}
          </span>
        </button>
        {filePath !== null && (
          <button
            type="button"
            class="tool-file-link"
            onClick={() => actions.openFile(filePath)}
            title={`Open ${filePath} in the file pane`}
            aria-label={`Open ${filePath} in the file pane`}
            data-testid="tool-open-file"
            data-path={filePath}
          >
            <FileIcon size={13} /> Open
          </button>
        )}
      </div>
      {open && (
        <div class="tool-body" id={bodyId}>
          <section class="tool-section" aria-label="Arguments">
            <p class="tool-section-title">Arguments</p>
            <pre class="code">{inputText(input, argsText) || "…"}</pre>
          </section>
          {output !== null && (
            <section class="tool-section" aria-label={status === "error" ? "Error" : "Output"}>
              <div class="tool-section-head">
                <p class="tool-section-title">{status === "error" ? "Error" : "Output"}</p>
                {output && (
                  <CopyButton
                    text={() => output}
                    label="Copy the tool output"
                    testId="tool-output-copy"
                    withText
                  />
                )}
              </div>
              <pre class="code tool-output" data-testid="tool-output">
                {output || "(no output)"}
              </pre>
            </section>
          )}
        </div>
      )}
    </div>
  );
}

/** A result whose call is not in view (history starting mid-turn). */
export function ToolResultCard({ result }: { result: ToolResultModel }) {
  const status: ToolCallStatus = result.isError ? "error" : "success";
  return (
    <div class="tool-card" data-status={status} data-testid="tool-result">
      <div class="tool-head static">
        <ToolIcon size={14} />
        <span class="tool-name">{result.name ?? "tool"} result</span>
        <span class="tool-status" data-status={status}>
          {STATUS_LABELS[status]}
        </span>
      </div>
      <div class="tool-body">
        {result.output && (
          <div class="tool-section-head">
            <CopyButton
              text={() => result.output}
              label="Copy the tool output"
              testId="tool-output-copy"
              withText
            />
          </div>
        )}
        <pre class="code tool-output">{result.output || "(no output)"}</pre>
      </div>
    </div>
  );
}
