/** Shared by the benchmarks: how long pi takes from spawn to its answer to the first RPC command. */

/** Milliseconds from spawning `argv` (pi in RPC mode, maybe wrapped) to pi's `get_state` response. */
export async function piReadyMs(argv: string[], cwd: string, env: Record<string, string>): Promise<number> {
  const start = performance.now();
  const proc = Bun.spawn(argv, { cwd, env, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  proc.stdin.write('{"type":"get_state","id":"ready"}\n');
  proc.stdin.flush();
  const decoder = new TextDecoder();
  let out = "";
  for await (const chunk of proc.stdout) {
    out += decoder.decode(chunk);
    if (out.includes('"id":"ready"')) break;
  }
  const elapsed = performance.now() - start;
  proc.stdin.end();
  await proc.exited;
  if (!out.includes('"id":"ready"'))
    throw new Error(`pi never answered: ${await new Response(proc.stderr).text()}`);
  return elapsed;
}

/** pi's arguments for a start-up measurement: RPC mode with nothing to load or save. */
export const PI_READY_ARGS = ["--mode", "rpc", "--no-session", "--offline", "--no-context-files"];
