import type { TreeNode, TreeResult } from "../../protocol/files.ts";
import { type DirEntry, describeEntries, type EntryName, listNames } from "./dir-entries.ts";
import { joinRel, type OpenDir } from "./path-guard.ts";

export interface TreeBudget {
  /** Nodes returned at most, over all levels. */
  maxNodes: number;
  /** Wall-clock time for one tree request. */
  timeoutMs: number;
}

export interface TreeRequest {
  depth: number;
  includeHidden: boolean;
  offset: number;
  limit: number;
}

/**
 * The tree under an open directory: its entries paged by offset/limit, and below each directory
 * its children down to `depth` levels, depth first with one open fd per level. Entries are
 * counted against the budget before they are stat'ed, so a huge directory costs one readdir.
 * When the budget runs out the walk stops; directories not expanded have no `children` (not
 * loaded), and the result says truncated with the reason.
 */
export async function buildTree(dir: OpenDir, request: TreeRequest, budget: TreeBudget): Promise<TreeResult> {
  const deadline = Date.now() + budget.timeoutMs;
  let nodes = 0;
  let stopReason: "timeout" | "max_nodes" | undefined;

  const toNode = (entry: DirEntry, parent: readonly string[]): TreeNode => {
    const node: TreeNode = {
      name: entry.name,
      path: joinRel([...parent, entry.name]),
      type: entry.kind,
      modified_at: entry.modifiedAt,
    };
    if (entry.kind !== "directory") node.size = entry.size;
    return node;
  };

  const expand = async (parent: OpenDir, node: TreeNode, levels: number): Promise<void> => {
    if (stopReason) return;
    if (Date.now() > deadline) {
      stopReason = "timeout";
      return;
    }
    let names: EntryName[];
    let child: OpenDir;
    try {
      child = await parent.openDir(node.name);
    } catch {
      return; // vanished or swapped for a link since it was listed: shown without children
    }
    await using opened = child;
    try {
      names = await listNames(opened, { includeHidden: request.includeHidden });
    } catch {
      return;
    }
    if (nodes + names.length > budget.maxNodes) {
      stopReason = "max_nodes";
      return;
    }
    nodes += names.length;
    node.children = (await describeEntries(opened, names)).map((entry) => toNode(entry, opened.parts));
    if (levels <= 1) return;
    for (const grandchild of node.children) {
      if (grandchild.type === "directory") await expand(opened, grandchild, levels - 1);
    }
  };

  const all = await listNames(dir, { includeHidden: request.includeHidden });
  let page = all.slice(request.offset, request.offset + request.limit);
  if (page.length > budget.maxNodes) {
    page = page.slice(0, budget.maxNodes);
    stopReason = "max_nodes";
  }
  nodes = page.length;
  const entries = (await describeEntries(dir, page)).map((entry) => toNode(entry, dir.parts));
  if (request.depth > 1) {
    for (const node of entries) {
      if (node.type === "directory") await expand(dir, node, request.depth - 1);
    }
  }

  const nextOffset = request.offset + page.length;
  const result: TreeResult = {
    path: dir.relPath,
    entries,
    truncated: stopReason !== undefined || nextOffset < all.length,
    total_entries: all.length,
  };
  if (stopReason) result.stop_reason = stopReason;
  if (nextOffset < all.length) result.next_offset = nextOffset;
  return result;
}
