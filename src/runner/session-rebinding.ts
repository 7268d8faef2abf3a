/**
 * Re-binding (PROTOCOL.md §1.7-6): `session.new`, `fork` and `session.switch` move an idle session's
 * stream (and its subscriber) to another Oqto session, since one Oqto session is one pi session.
 */
import type { CommandOf } from "../protocol/commands.ts";
import { ProtocolError } from "../protocol/common.ts";
import { PiCancellableData, PiForkData } from "./harness/pi/pi-schemas.ts";
import type { Lineage } from "./history/conversation-sync.ts";
import type { Session } from "./session.ts";
import { GET_STATE_TIMEOUT_MS, guard, piData } from "./session-commands.ts";
import { piSessionIdFromFile } from "./session-files.ts";
import type { SessionRegistry } from "./session-registry.ts";

/** `session.new`: pi starts a new pi session (optionally with a parent) in the same process. */
export async function newSession(
  registry: SessionRegistry,
  command: CommandOf<"session.new">,
): Promise<{ session_id: string }> {
  const session = runningIdleSession(registry, command.session_id, command.cmd);
  const parent = command.parent_session ? await registry.resolveTarget(command.parent_session) : undefined;
  const result = piData(
    PiCancellableData,
    await session.requestData({
      type: "new_session",
      ...(parent ? { parentSession: parent.file } : {}),
    }),
    "new_session",
  );
  if (result.cancelled) throw new ProtocolError("harness_error", "an extension cancelled the new session");
  const parentPiSessionId = parent
    ? (parent.record?.pi_session_id ?? piSessionIdFromFile(parent.file))
    : undefined;
  const lineage = parentPiSessionId
    ? { parentPiSessionId, parentSessionId: parent?.record?.session_id }
    : undefined;
  const next = await rebind(registry, session, lineage);
  return { session_id: next.id };
}

/** `session.switch`: the target session gets a pi process of its own; this one is closed as replaced. */
export async function switchSession(
  registry: SessionRegistry,
  command: CommandOf<"session.switch">,
): Promise<{ session_id: string }> {
  const session = runningIdleSession(registry, command.session_id, command.cmd);
  const target = await registry.resolveTarget(command.target_session_id);
  if (target.file === session.piSessionFile) return { session_id: session.id };
  const targetId = target.record?.session_id ?? mintSessionId();
  if (registry.get(targetId)?.isRunning) {
    throw new ProtocolError("session_busy", `session ${targetId} is running in another process`);
  }
  // Not pi's switch_session: a sandboxed pi sees only its own session's files, so the target
  // gets a pi process of its own, in its own workspace's sandbox.
  const subscribed = session.subscribed || registry.get(targetId)?.subscribed === true;
  await session.close("replaced", undefined, targetId);
  session.unsubscribe();
  const record = target.record;
  const next = registry.add({
    session_id: targetId,
    workspace_path: record?.workspace_path ?? session.workspacePath,
    provider: record?.provider ?? null,
    model: record?.model ?? null,
    pi_session_id: record?.pi_session_id ?? piSessionIdFromFile(target.file) ?? null,
    pi_session_file: target.file,
    title: record?.title ?? null,
  });
  if (subscribed) next.subscribe(undefined);
  await next.start();
  return { session_id: next.id };
}

/** `fork`: pi forks its session at an entry in the same process, which moves to the fork. */
export async function fork(
  registry: SessionRegistry,
  command: CommandOf<"fork">,
): Promise<{ text: string; cancelled: boolean; new_session_id: string }> {
  const session = runningIdleSession(registry, command.session_id, command.cmd);
  const result = piData(
    PiForkData,
    await session.requestData({ type: "fork", entryId: command.entry_id }),
    "fork",
  );
  if (result.cancelled) return { text: result.text, cancelled: true, new_session_id: session.id };
  const lineage = session.piSessionId
    ? { parentPiSessionId: session.piSessionId, parentSessionId: session.id }
    : undefined;
  const next = await rebind(registry, session, lineage);
  return { text: result.text, cancelled: false, new_session_id: next.id };
}

function runningIdleSession(registry: SessionRegistry, sessionId: string, cmd: string): Session {
  const session = registry.require(sessionId);
  guard(session, ["idle"], cmd);
  return session;
}

/**
 * Moves `from`'s pi process, which pi has just put on a new pi session (`new_session`, `fork`),
 * to a new Oqto session. (`session.switch` starts a process of its own instead.)
 */
async function rebind(registry: SessionRegistry, from: Session, lineage?: Lineage): Promise<Session> {
  const piState = await from.requestData({ type: "get_state" }, GET_STATE_TIMEOUT_MS);
  const toId = mintSessionId();
  const process = from.handOver(toId);
  const subscribed = from.subscribed;
  from.unsubscribe();
  const to = registry.add({
    session_id: toId,
    workspace_path: from.workspacePath,
    provider: null,
    model: null,
    pi_session_id: null,
    pi_session_file: null,
    title: null,
  });
  if (subscribed) to.subscribe(undefined);
  await to.adopt(process, piState, lineage);
  return to;
}

function mintSessionId(): string {
  return `oqto-${Bun.randomUUIDv7()}`;
}
