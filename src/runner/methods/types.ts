import type { RunnerMethod, RunnerParams } from "../../protocol/index.ts";

export type MethodHandler<M extends RunnerMethod> = (params: RunnerParams<M>) => Promise<unknown> | unknown;
/** A set of runner method handlers, one module per domain; the server merges them. */
export type MethodTable<M extends RunnerMethod> = { [K in M]: MethodHandler<K> };
/** Sends an unsolicited frame (file_changed, terminal output) to the active server connection. */
export type PushFn = (frame: Record<string, unknown>) => void;
