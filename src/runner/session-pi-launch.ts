/**
 * Starting the pi process of a session: its argv and environment, the workspace's sandbox around
 * it, and the resumed pi session file.
 */
import { existsSync } from "node:fs";
import { PiProcess, type PiProcessHandlers } from "./harness/pi/pi-process.ts";
import { buildPiSpawn } from "./harness/pi/pi-spawn.ts";
import type { Session } from "./session.ts";
import type { SessionDeps } from "./session-deps.ts";

export interface PiLaunch {
  process: PiProcess;
  /** The pi session file pi was told to load; undefined when pi starts a new pi session. */
  resumeFile: string | undefined;
}

/**
 * Spawns pi, resuming the pi session file when it exists. A sandbox wrapper that refuses throws,
 * so pi never starts unsandboxed; the sandbox's resources are released when the process exits.
 */
export function launchPi(
  deps: Pick<SessionDeps, "pi" | "config" | "home" | "agentDir" | "wrapAgent" | "log">,
  session: Pick<Session, "id" | "workspacePath" | "piSessionFile" | "provider" | "model">,
  handlers: PiProcessHandlers,
): PiLaunch {
  const { id: sessionId, workspacePath, piSessionFile, provider, model } = session;
  const resumeFile = piSessionFile && existsSync(piSessionFile) ? piSessionFile : undefined;
  const spec = buildPiSpawn({
    pi: deps.pi,
    config: deps.config,
    cwd: workspacePath,
    home: deps.home,
    agentDir: deps.agentDir,
    sessionId,
    ...(resumeFile ? { sessionFile: resumeFile } : {}),
    ...(provider ? { provider } : {}),
    ...(model ? { model } : {}),
  });
  const launch = deps.wrapAgent?.(workspacePath, spec.argv, {
    sessionId,
    ...(resumeFile ? { resumeFile } : {}),
  });
  if (launch) {
    spec.argv = launch.argv;
    spec.env = { ...spec.env, ...launch.env };
  }
  let process: PiProcess;
  try {
    process = PiProcess.start(spec, handlers, (m) => deps.log(`[${sessionId}] ${m}`));
  } catch (error) {
    launch?.release();
    throw error;
  }
  // The sandbox's resources (the LLM bridge) belong to the process, which may move to another session.
  if (launch) void process.exited.finally(launch.release);
  return { process, resumeFile };
}
