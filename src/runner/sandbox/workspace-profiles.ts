import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { z } from "zod";
import { ProtocolError } from "../../protocol/common.ts";
import { ProfileName } from "./profile-schema.ts";

const ProfilesFile = z.strictObject({
  version: z.literal(1),
  /** Workspace real path → the profile its owner chose. */
  workspaces: z.record(z.string().startsWith("/"), ProfileName),
});
type ProfilesFile = z.infer<typeof ProfilesFile>;

/**
 * Each workspace's profile choice, kept by the runner in its own state (the hidden data dir),
 * outside every workspace: no sandboxed process can delete or rewrite it, and only `sandbox.set`
 * changes it. A damaged file fails every start closed instead of falling back to a looser profile.
 */
export class WorkspaceProfiles {
  constructor(private readonly file: string) {}

  get(workspace: string): string | null {
    return this.read().workspaces[workspace] ?? null;
  }

  set(workspace: string, profile: string): void {
    const current = this.read();
    const next: ProfilesFile = { ...current, workspaces: { ...current.workspaces, [workspace]: profile } };
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const temp = `${this.file}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      writeFileSync(temp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
      renameSync(temp, this.file);
    } catch (error) {
      rmSync(temp, { force: true });
      throw new ProtocolError("io_error", `cannot write ${this.file}: ${(error as Error).message}`);
    }
  }

  private read(): ProfilesFile {
    let text: string;
    try {
      text = readFileSync(this.file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, workspaces: {} };
      throw new ProtocolError("sandbox_error", `${this.file}: cannot read: ${(error as Error).message}`);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new ProtocolError("sandbox_error", `${this.file}: not JSON: ${(error as Error).message}`);
    }
    const parsed = ProfilesFile.safeParse(raw);
    if (!parsed.success) throw new ProtocolError("sandbox_error", `${this.file}: ${parsed.error.message}`);
    return parsed.data;
  }
}
