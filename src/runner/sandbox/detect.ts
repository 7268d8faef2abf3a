import { ProtocolError } from "../../protocol/common.ts";

export interface BwrapInfo {
  /** Absolute path of the bwrap binary that answered. */
  path: string;
  /** e.g. "0.8.0". */
  version: string;
}

/** Working binaries by path, so that `--version` runs once per binary. */
const found = new Map<string, BwrapInfo>();

/**
 * Finds bubblewrap on `searchPath` and checks that `bwrap --version` answers. Fails closed: a
 * missing or broken bwrap is a `sandbox_error`, never a reason to run unsandboxed.
 */
export function detectBwrap(searchPath: string = process.env.PATH ?? ""): BwrapInfo {
  // Looked up at every start, so that bwrap removed (or installed) while the runner runs is noticed
  // with this clear error instead of a failed spawn of a remembered path.
  const path = Bun.which("bwrap", { PATH: searchPath });
  if (!path) {
    throw new ProtocolError(
      "sandbox_error",
      "bubblewrap (bwrap) is not installed or not on PATH; the sandbox is enabled, so agents and terminals cannot start",
    );
  }
  const cached = found.get(path);
  if (cached) return cached;
  let result: ReturnType<typeof Bun.spawnSync>;
  try {
    result = Bun.spawnSync([path, "--version"], { stdout: "pipe", stderr: "pipe", env: {} });
  } catch (error) {
    throw new ProtocolError("sandbox_error", `${path} --version could not run: ${(error as Error).message}`);
  }
  const output = result.stdout?.toString() ?? "";
  const version = /^bubblewrap (\S+)/.exec(output.trim())?.[1];
  if (!result.success || !version) {
    const firstLine = `${result.stderr?.toString() ?? ""}${output}`.trim().split("\n")[0];
    const detail = `exit code ${result.exitCode}${firstLine ? `: ${firstLine}` : ""}`;
    throw new ProtocolError(
      "sandbox_error",
      `${path} --version did not answer as bubblewrap (${detail}); the sandbox cannot start`,
    );
  }
  const info = { path, version };
  found.set(path, info);
  return info;
}
