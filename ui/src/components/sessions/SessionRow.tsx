import { useSignal } from "@preact/signals";
import type { SessionSummary, Workspace } from "../../../../src/protocol/index.ts";
import { errorText } from "../../lib/errors.ts";
import { activeChat } from "../../state/chat/active-chat.ts";
import { clock } from "../../state/clock.ts";
import { confirmDialog } from "../../state/dialogs.ts";
import {
  deleteSession,
  renameSession,
  sessionLabel,
  sessionState,
} from "../../state/history/session-history.ts";
import { linkHandler, navigate, workspacePath } from "../../state/router.ts";
import { relativeTime } from "../common/format.ts";
import { EditIcon, TrashIcon } from "../common/icons.tsx";

interface SessionRowProps {
  session: SessionSummary;
  workspace: Workspace;
  active: boolean;
  onNavigate: () => void;
}

/** One conversation in the list: link, live state dot, time, and rename / delete. */
export function SessionRow({ session, workspace, active, onNavigate }: SessionRowProps) {
  const renaming = useSignal(false);
  const draft = useSignal("");
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);
  const label = sessionLabel(session);
  const state = sessionState(session);
  const href = workspacePath(workspace.name, session.session_id);

  const startRename = () => {
    draft.value = session.title ?? label;
    error.value = null;
    renaming.value = true;
  };

  const saveRename = async () => {
    const title = draft.value.trim();
    // Escape already left edit mode; the blur that follows must not save.
    if (busy.value || !renaming.value) return;
    if (!title || title === session.title) {
      renaming.value = false;
      return;
    }
    busy.value = true;
    try {
      await renameSession(session.session_id, title);
      const chat = activeChat.value;
      if (chat?.id === session.session_id) chat.title.value = title;
      renaming.value = false;
      error.value = null;
    } catch (caught) {
      error.value = `Rename failed: ${errorText(caught)}`;
    } finally {
      busy.value = false;
    }
  };

  const remove = async () => {
    const confirmed = await confirmDialog({
      title: "Delete this session?",
      message: `“${label}” and its whole conversation will be deleted. This cannot be undone.`,
      confirmLabel: "Delete",
      danger: true,
    });
    if (!confirmed) return;
    try {
      await deleteSession(session.session_id);
      if (active) navigate(workspacePath(workspace.name), { replace: true });
    } catch (caught) {
      error.value = `Delete failed: ${errorText(caught)}`;
    }
  };

  return (
    <li class="session-row" data-active={active}>
      {renaming.value ? (
        <form
          class="session-rename"
          onSubmit={(event) => {
            event.preventDefault();
            void saveRename();
          }}
        >
          <input
            value={draft.value}
            onInput={(event) => {
              draft.value = event.currentTarget.value;
            }}
            onKeyDown={(event) => {
              if (event.key !== "Escape") return;
              // Leaves the title's edit only, not the session drawer around it.
              event.stopPropagation();
              renaming.value = false;
            }}
            onBlur={() => void saveRename()}
            aria-label="Session title"
            maxLength={200}
            disabled={busy.value}
            // biome-ignore lint/a11y/noAutofocus: the user just asked to edit this title
            autoFocus
            data-testid="session-rename-input"
          />
        </form>
      ) : (
        <>
          <a
            class="session-item"
            href={href}
            onClick={(event) => {
              linkHandler(href)(event);
              onNavigate();
            }}
            aria-current={active ? "page" : undefined}
            data-testid="session-item"
            data-session-id={session.session_id}
          >
            <span class="state-dot" data-state={state} title={state} aria-hidden="true" />
            <span class="session-title">{label}</span>
            <time class="session-time" dateTime={new Date(session.updated_at).toISOString()}>
              {relativeTime(session.updated_at, clock.value)}
            </time>
          </a>
          <div class="session-actions">
            <button
              type="button"
              class="icon-button small"
              aria-label={`Rename “${label}”`}
              title="Rename"
              onClick={startRename}
              data-testid="session-rename"
            >
              <EditIcon size={13} />
            </button>
            <button
              type="button"
              class="icon-button small danger"
              aria-label={`Delete “${label}”`}
              title="Delete"
              onClick={() => void remove()}
              data-testid="session-delete"
            >
              <TrashIcon size={13} />
            </button>
          </div>
        </>
      )}
      {error.value && (
        <p class="session-error" role="alert">
          {error.value}
        </p>
      )}
    </li>
  );
}
