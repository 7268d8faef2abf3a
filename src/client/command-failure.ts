import { z } from "zod";
import { ClientError, EXIT } from "./client-error.ts";

/**
 * Reports a client command's failure as one line on stderr and returns its exit code: never a
 * stack trace. Usage errors (ours, and node:util parseArgs') point at the command's --help.
 */
export function reportFailure(command: string, error: unknown): number {
  const help = ` (${command} --help)`;
  if (error instanceof ClientError) {
    console.error(`${command}: ${error.message}${error.exitCode === EXIT.usage ? help : ""}`);
    return error.exitCode;
  }
  if ((error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
    console.error(`${command}: ${(error as Error).message.split("\n")[0]}${help}`);
    return EXIT.usage;
  }
  if (error instanceof z.ZodError) {
    console.error(`${command}: ${error.issues[0]?.message ?? error.message}`);
    return EXIT.failed;
  }
  console.error(`${command}: ${(error as Error).message ?? String(error)}`);
  return EXIT.failed;
}
