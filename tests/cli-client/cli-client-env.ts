/** How the client-command tests run `oqto` as a user's laptop would: its own HOME, the server over HTTP. */
import { mkdtempSync } from "node:fs";
import { join, resolve } from "node:path";
import { runProcess } from "../helpers/run-process.ts";

const MAIN = resolve(import.meta.dir, "../../src/cli/main.ts");

export interface ClientHome {
  home: string;
  configDir: string;
  env: (extra?: Record<string, string>) => Record<string, string>;
  /** Runs `oqto <args>` to completion in this home. */
  oqto: (
    args: string[],
    options?: { env?: Record<string, string>; stdin?: string },
  ) => Promise<{ code: number; stdout: string; stderr: string }>;
  /** Starts `oqto <args>` with its output piped, for tests that watch it run. */
  spawn: (args: string[], env?: Record<string, string>) => Bun.Subprocess<"ignore", "pipe", "pipe">;
}

/** A fresh home for the client under `/tmp`; the caller removes it. */
export function clientHome(): ClientHome {
  const home = mkdtempSync("/tmp/oqto-cli-client-");
  const configDir = join(home, ".config");
  const env = (extra: Record<string, string> = {}) => ({
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    XDG_CONFIG_HOME: configDir,
    ...extra,
  });
  return {
    home,
    configDir,
    env,
    oqto: (args, options = {}) =>
      runProcess([process.execPath, MAIN, ...args], {
        env: env(options.env),
        ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
      }),
    spawn: (args, extra) =>
      Bun.spawn([process.execPath, MAIN, ...args], {
        env: env(extra),
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
      }),
  };
}

/** Collects a stream's text as it comes; `text()` is what arrived so far. */
export function collect(stream: ReadableStream<Uint8Array>): { text: () => string; done: Promise<void> } {
  const chunks: string[] = [];
  const decoder = new TextDecoder();
  const done = (async () => {
    for await (const chunk of stream) chunks.push(decoder.decode(chunk, { stream: true }));
  })();
  return { text: () => chunks.join(""), done };
}
