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
  /** Moves what the process was launched for (its LLM token) to another session. */
  rebind: (sessionId: string) => void;
}

/**
 * Spawns pi, resuming the pi session file when it exists. A sandbox wrapper that refuses throws,
 * so pi never starts unsandboxed; the sandbox's resources are released when the process exits.
 */
export function launchPi(
  deps: Pick<SessionDeps, "pi" | "config" | "home" | "agentDir" | "wrapAgent" | "log">,
  session: Pick<Session, "id" | "workspacePath" | "piSessionFile" | "provider" | "model">,
  handlers: PiProcessHandlers,
  /** A warm spare for the pool: started for no session yet (lean-rpc.ts, OQTO_POOLED). */
  pooled = false,
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
  if (pooled) spec.env.OQTO_POOLED = "1";
  let process: PiProcess;
  try {
    process = PiProcess.start(spec, handlers, (m) => deps.log(`[${sessionId}] ${m}`));
  } catch (error) {
    launch?.release();
    throw error;
  }
  // The sandbox's resources (the LLM bridge) belong to the process, which may move to another session.
  if (launch) void process.exited.finally(launch.release);
  return { process, resumeFile, rebind: launch?.rebind ?? (() => undefined) };
}

/** A started pi process for a session, and whether it came warm from the pool. */
export interface AcquiredPi {
  process: PiProcess;
  resumeFile: string | undefined;
  pooled: boolean;
}

/**
 * A process for the session: a warm spare when it starts a new pi session and the pool holds one
 * for its workspace (already bound to the session), else a freshly launched one.
 */
export function acquirePi(
  deps: Pick<SessionDeps, "pi" | "config" | "home" | "agentDir" | "wrapAgent" | "log" | "pool">,
  session: Pick<Session, "id" | "workspacePath" | "piSessionFile" | "provider" | "model">,
  handlers: PiProcessHandlers,
): AcquiredPi {
  const resumes = session.piSessionFile !== undefined && existsSync(session.piSessionFile);
  const spare = resumes ? undefined : deps.pool?.take(session.workspacePath, session.id);
  if (spare) {
    spare.setHandlers(handlers);
    return { process: spare, resumeFile: undefined, pooled: true };
  }
  const launch = launchPi(deps, session, handlers);
  return { process: launch.process, resumeFile: launch.resumeFile, pooled: false };
}
