import { type ErrorCode, ProtocolError, type RestErrorCode } from "../../protocol/index.ts";
import { ApiError } from "../http-errors.ts";

/** How a runner failure reads over REST (PROTOCOL.md §4.1: runner errors are 502, runner down 503). */
const REST_CODE_FOR: Partial<Record<ErrorCode, RestErrorCode>> = {
  invalid_request: "BAD_REQUEST",
  path_not_allowed: "FORBIDDEN",
  forbidden: "FORBIDDEN",
  permission_denied: "FORBIDDEN",
  not_found: "NOT_FOUND",
  session_not_found: "NOT_FOUND",
  path_not_found: "NOT_FOUND",
  path_exists: "CONFLICT",
  precondition_failed: "PRECONDITION_FAILED",
  too_large: "PAYLOAD_TOO_LARGE",
  not_a_file: "BAD_REQUEST",
  not_a_directory: "BAD_REQUEST",
  runner_unavailable: "SERVICE_UNAVAILABLE",
  shutting_down: "SERVICE_UNAVAILABLE",
  timeout: "GATEWAY_TIMEOUT",
};

/** Maps an error from a runner request to the ApiError a REST route throws. */
export function runnerErrorToApi(error: unknown): ApiError {
  if (error instanceof ProtocolError) {
    return new ApiError(REST_CODE_FOR[error.code] ?? "BAD_GATEWAY", error.message, {
      runner_code: error.code,
    });
  }
  return new ApiError("BAD_GATEWAY", `runner request failed: ${(error as Error).message}`);
}
