import { type ErrorCode, ProtocolError } from "../../protocol/index.ts";

const ERRNO_CODES: Record<string, { code: ErrorCode; problem: string }> = {
  ENOENT: { code: "path_not_found", problem: "does not exist" },
  EEXIST: { code: "path_exists", problem: "already exists" },
  ENOTEMPTY: { code: "path_exists", problem: "is a directory that is not empty" },
  ENOTDIR: { code: "not_a_directory", problem: "is not a directory" },
  EISDIR: { code: "not_a_file", problem: "is a directory" },
  ELOOP: { code: "path_not_allowed", problem: "is a symbolic link" },
  EACCES: { code: "permission_denied", problem: "is not accessible (permission denied)" },
  EPERM: { code: "permission_denied", problem: "is not accessible (operation not permitted)" },
  EROFS: { code: "permission_denied", problem: "is on a read-only file system" },
  ENAMETOOLONG: { code: "invalid_request", problem: "is too long" },
  EINVAL: { code: "invalid_request", problem: "is not a valid target for this operation" },
  EXDEV: { code: "not_supported", problem: "is on another file system" },
  EFBIG: { code: "too_large", problem: "is too large" },
  ENOSPC: { code: "io_error", problem: "cannot be written: no space left on the device" },
  EDQUOT: { code: "io_error", problem: "cannot be written: disk quota exceeded" },
};

/** The errno of a failed fs call, if it is one. */
export function errnoOf(error: unknown): string | undefined {
  return error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
}

/**
 * Maps a failed fs call to a ProtocolError that names the workspace-relative path (never the
 * absolute /proc path the call used). ProtocolErrors pass through unchanged.
 */
export function toProtocolError(error: unknown, relPath: string): ProtocolError {
  if (error instanceof ProtocolError) return error;
  const errno = errnoOf(error);
  const known = errno ? ERRNO_CODES[errno] : undefined;
  if (known) return new ProtocolError(known.code, `'${relPath}' ${known.problem}`, { path: relPath });
  const reason = errno ?? (error instanceof Error ? error.message : String(error));
  return new ProtocolError("io_error", `'${relPath}': ${reason}`, { path: relPath });
}
