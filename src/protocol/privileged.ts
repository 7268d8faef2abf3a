import { z } from "zod";
import { Username } from "./rest.ts";

/**
 * The privileged helper's request set (multi-user mode): the only things the unprivileged server
 * may ask root to do. One JSON object per line over a unix socket only the server's user can
 * open; anything else is refused. Every request names a platform user; the helper maps it to the
 * Linux user `oqto_<name>` itself, so no request can name another account.
 */
export const HELPER_MAX_LINE_BYTES = 4096;

/** Every Linux account of a platform user is `oqto_<platform name>`; the helper touches no other. */
export const LINUX_USER_PREFIX = "oqto_";

export function linuxUserName(platformName: string): string {
  return `${LINUX_USER_PREFIX}${platformName}`;
}

const RequestId = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const HelperRequest = z.discriminatedUnion("op", [
  /** Create the user's Linux account, home and workspace root if missing. */
  z.strictObject({ id: RequestId, op: z.literal("ensure_user"), user: Username }),
  /** Start the user's runner, or report the one that is already running (adopted). */
  z.strictObject({ id: RequestId, op: z.literal("start_runner"), user: Username }),
  z.strictObject({ id: RequestId, op: z.literal("stop_runner"), user: Username }),
  /** Stop the runner, end the user's processes, delete the Linux account (and its home when asked). */
  z.strictObject({ id: RequestId, op: z.literal("delete_user"), user: Username, remove_home: z.boolean() }),
]);
export type HelperRequest = z.infer<typeof HelperRequest>;
export type HelperOp = HelperRequest["op"];

export const LinuxUserResult = z.strictObject({
  linux_user: z.string(),
  uid: z.number().int(),
  gid: z.number().int(),
  home: z.string(),
  workspace_root: z.string(),
  created: z.boolean(),
});
export const RunnerResult = z.strictObject({
  socket: z.string(),
  pid: z.number().int(),
  /** The runner was already running (a restarted server adopts it). */
  adopted: z.boolean(),
});
export const StopResult = z.strictObject({ stopped: z.boolean() });
export const DeleteResult = z.strictObject({ deleted: z.boolean() });

export interface HelperResults {
  ensure_user: z.infer<typeof LinuxUserResult>;
  start_runner: z.infer<typeof RunnerResult>;
  stop_runner: z.infer<typeof StopResult>;
  delete_user: z.infer<typeof DeleteResult>;
}
export const HELPER_RESULT_SCHEMAS = {
  ensure_user: LinuxUserResult,
  start_runner: RunnerResult,
  stop_runner: StopResult,
  delete_user: DeleteResult,
} as const;

/** `invalid_request`: not a request of the set; `refused`: a request the rules forbid; `failed`: the system said no. */
export const HelperErrorCode = z.enum(["invalid_request", "refused", "failed"]);
export type HelperErrorCode = z.infer<typeof HelperErrorCode>;

export const HelperResponse = z.union([
  z.strictObject({ id: RequestId, ok: z.literal(true), result: z.record(z.string(), z.unknown()) }),
  z.strictObject({
    id: RequestId.nullable(),
    ok: z.literal(false),
    error: z.string(),
    code: HelperErrorCode,
  }),
]);
export type HelperResponse = z.infer<typeof HelperResponse>;
