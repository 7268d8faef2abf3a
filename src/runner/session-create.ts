/**
 * `session.create`: starts a new session, resumes a known one (from its own pi session file or the
 * one `continue_session` names), or answers for one that is already running.
 */
import type { CommandOf } from "../protocol/commands.ts";
import { ProtocolError } from "../protocol/common.ts";
import type { Session } from "./session.ts";
import type { SessionRegistry } from "./session-registry.ts";
import { resolveWorkspaceDir } from "./workspace-dir.ts";

/** `cwd` must be a directory strictly inside `workspaceRoot`. */
export async function createSession(
  registry: SessionRegistry,
  workspaceRoot: string,
  command: CommandOf<"session.create">,
): Promise<Record<string, unknown>> {
  const { config } = command;
  const workspacePath = await resolveWorkspaceDir(workspaceRoot, config.cwd);
  const existing = registry.get(command.session_id);
  if (existing?.isRunning) {
    existing.subscribe(undefined);
    await existing.start();
    return createdData(existing, { resumed: false, alreadyRunning: true });
  }

  const known = config.continue_session
    ? await registry.resolveTarget(config.continue_session)
    : registry.indexedFile(command.session_id);
  if (known?.record && known.record.session_id !== command.session_id) {
    if (registry.get(known.record.session_id)?.isRunning) {
      throw new ProtocolError(
        "session_busy",
        `session ${known.record.session_id} is running in another process`,
      );
    }
  }
  const reuse = existing && existing.workspacePath === workspacePath && !config.continue_session;
  const session = reuse
    ? existing
    : registry.add({
        session_id: command.session_id,
        workspace_path: workspacePath,
        provider: config.provider ?? known?.record?.provider ?? null,
        model: config.model ?? known?.record?.model ?? null,
        pi_session_id: known?.record?.pi_session_id ?? null,
        pi_session_file: known?.file ?? null,
        title: known?.record?.title ?? null,
      });
  if (reuse && config.provider) session.provider = config.provider;
  if (reuse && config.model) session.model = config.model;
  // Subscribed before starting, so that session.created reaches the caller.
  session.subscribe(undefined);
  await session.start();
  return createdData(session, { resumed: session.resumed, alreadyRunning: false });
}

function createdData(session: Session, flags: { resumed: boolean; alreadyRunning: boolean }) {
  return {
    session_id: session.id,
    workspace_path: session.workspacePath,
    resumed: flags.resumed,
    already_running: flags.alreadyRunning,
    pi_session_id: session.piSessionId,
    seq: session.seq,
    epoch: session.epoch,
  };
}
