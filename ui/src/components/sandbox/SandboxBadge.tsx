import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { WorkspaceSandbox } from "../../lib/api.ts";
import { loadSandbox, sandboxOf } from "../../state/sandbox.ts";
import { ShieldIcon } from "../common/icons.tsx";
import { SandboxDialog } from "./SandboxDialog.tsx";

/** The sandbox profile a workspace runs under, in the header; opens the dialog that tightens it. */
export function SandboxBadge({ workspace }: { workspace: string }) {
  const open = useSignal(false);
  const { view, error } = sandboxOf(workspace).value;

  useEffect(() => {
    void loadSandbox(workspace);
  }, [workspace]);

  const state = error && !view ? "error" : view && !view.enabled ? "off" : "on";
  const label = badgeLabel(view, error);
  return (
    <>
      <button
        type="button"
        class="sandbox-badge"
        data-state={state}
        data-profile={view?.profile}
        aria-haspopup="dialog"
        aria-label={`Sandbox profile: ${label}. Show or tighten it`}
        title={error ?? "Sandbox profile"}
        onClick={() => {
          open.value = true;
        }}
        data-testid="sandbox-badge"
      >
        <ShieldIcon size={14} />
        <span class="sandbox-badge-label">{label}</span>
      </button>
      {open.value && (
        <SandboxDialog
          workspace={workspace}
          onClose={() => {
            open.value = false;
          }}
        />
      )}
    </>
  );
}

function badgeLabel(view: WorkspaceSandbox | null, error: string | null): string {
  if (view) return view.enabled ? view.profile : `${view.profile} (off)`;
  return error ? "sandbox error" : "sandbox…";
}
