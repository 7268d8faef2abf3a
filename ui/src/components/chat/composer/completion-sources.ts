import type { AgentCommandInfo, AgentCommandType, TreeNode } from "../../../../../src/protocol/index.ts";
import type { FilesClient } from "../../../state/files/files-client.ts";
import { BUILTIN_COMMANDS } from "./builtin-commands.ts";
import { type CompletionItem, rankByQuery } from "./completion-token.ts";

/** Entries shown at most; typing narrows the rest. */
const MAX_ITEMS = 50;
/** pi's command list is asked again when the popup opens after this long (templates may have changed). */
const COMMANDS_FRESH_MS = 10_000;

export const COMMAND_TYPE_LABELS: Record<AgentCommandType, string> = {
  prompt: "Prompt",
  skill: "Skill",
  extension: "Extension",
};

/** pi's commands, asked of the running pi and kept for a few seconds. */
export class CommandSource {
  private cached: { at: number; commands: Promise<AgentCommandInfo[]> } | null = null;

  constructor(private readonly list: () => Promise<AgentCommandInfo[]>) {}

  async items(query: string): Promise<CompletionItem[]> {
    if (!this.cached || Date.now() - this.cached.at > COMMANDS_FRESH_MS) {
      const commands = this.list();
      this.cached = { at: Date.now(), commands };
      // A failed listing is asked again next time.
      commands.catch(() => {
        this.cached = null;
      });
    }
    const builtins = new Set(BUILTIN_COMMANDS.map((c) => c.name));
    // A pi command a built-in shadows could not be run: it is not offered.
    const listed: Array<{ name: string; description?: string; badge: string }> = [
      ...BUILTIN_COMMANDS.map((c) => ({ name: c.name, description: c.description, badge: "Built-in" })),
      ...(await this.cached.commands)
        .filter((c) => !builtins.has(c.name))
        .map((c) => ({ ...c, badge: COMMAND_TYPE_LABELS[c.type] })),
    ];
    return rankByQuery(listed, query, (c) => c.name)
      .slice(0, MAX_ITEMS)
      .map((c) => ({
        id: `${c.badge}:${c.name}`,
        label: `/${c.name}`,
        ...(c.description ? { detail: c.description } : {}),
        badge: c.badge,
        insert: `/${c.name} `,
      }));
  }
}

/** Workspace paths, one directory listing at a time (the tree the files panel shows). */
export class PathSource {
  private readonly listings = new Map<string, Promise<TreeNode[]>>();

  constructor(private readonly client: FilesClient) {}

  /** A new completion began: listings are read again, the workspace may have changed. */
  reset(): void {
    this.listings.clear();
  }

  async items(query: string): Promise<CompletionItem[]> {
    const slash = query.lastIndexOf("/");
    const directory = slash < 0 ? "." : query.slice(0, slash) || ".";
    const prefix = query.slice(slash + 1);
    let listing = this.listings.get(directory);
    if (!listing) {
      listing = this.client.list(directory).then((result) => result.entries);
      this.listings.set(directory, listing);
      listing.catch(() => this.listings.delete(directory));
    }
    return rankByQuery(await listing, prefix, (entry) => entry.name)
      .slice(0, MAX_ITEMS)
      .map((entry) =>
        entry.type === "directory"
          ? {
              id: entry.path,
              label: `${entry.path}/`,
              badge: "Folder",
              insert: `@${entry.path}/`,
              continues: true,
            }
          : { id: entry.path, label: entry.path, insert: `${entry.path} ` },
      );
  }
}
