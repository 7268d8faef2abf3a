import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ProtocolError, type Workspace, WorkspaceName } from "../protocol/index.ts";

/** Workspace metadata kept inside the workspace (read-only inside its sandboxes); its sandbox choice is not: WorkspaceProfiles. */
const META_FILE = join(".oqto", "workspace.json");

/**
 * The user's workspaces: the directories directly under the workspace root. Hidden
 * directories are not workspaces.
 */
export class WorkspaceService {
  /** `profileOf`: the sandbox profile a workspace runs under (an error reads as "invalid"). */
  constructor(
    private readonly root: string,
    private readonly profileOf: (workspacePath: string) => string,
  ) {}

  async list(): Promise<Workspace[]> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    const entries = await readdir(this.root, { withFileTypes: true });
    const workspaces = await Promise.all(
      entries
        .filter(
          (entry) =>
            entry.isDirectory() && !entry.name.startsWith(".") && WorkspaceName.safeParse(entry.name).success,
        )
        .map((entry) => this.describe(entry.name)),
    );
    return workspaces.sort((a, b) => a.name.localeCompare(b.name));
  }

  async create(name: string, displayName?: string): Promise<Workspace> {
    const parsed = WorkspaceName.safeParse(name);
    if (!parsed.success)
      throw new ProtocolError("invalid_request", parsed.error.issues[0]?.message ?? "invalid name");
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    const path = join(this.root, name);
    try {
      await mkdir(path, { mode: 0o755 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") {
        throw new ProtocolError("path_exists", `workspace '${name}' already exists`);
      }
      throw error;
    }
    if (displayName) {
      await mkdir(join(path, ".oqto"), { recursive: true });
      await writeFile(join(path, META_FILE), JSON.stringify({ display_name: displayName }));
    }
    return this.describe(name);
  }

  private async describe(name: string): Promise<Workspace> {
    const path = join(this.root, name);
    let profile: string;
    try {
      profile = this.profileOf(path);
    } catch {
      profile = "invalid";
    }
    const workspace: Workspace = { name, path, sandbox_profile: profile };
    const displayName = await readDisplayName(path);
    if (displayName) workspace.display_name = displayName;
    return workspace;
  }
}

async function readDisplayName(workspacePath: string): Promise<string | undefined> {
  try {
    const meta = JSON.parse(await readFile(join(workspacePath, META_FILE), "utf8")) as {
      display_name?: unknown;
    };
    return typeof meta.display_name === "string" ? meta.display_name : undefined;
  } catch {
    return undefined;
  }
}
