import { useComputed } from "@preact/signals";
import { droppedFiles } from "../../lib/dropped-files.ts";
import { errorText } from "../../lib/errors.ts";
import { ROOT_PATH } from "../../lib/paths.ts";
import type { FileBrowser } from "../../state/files/file-browser.ts";
import type { FileNode } from "../../state/files/file-tree.ts";
import { formatBytes } from "../common/format.ts";
import { ChevronIcon, MoreIcon } from "../common/icons.tsx";
import { FileTypeIcon } from "./FileTypeIcon.tsx";

/** Drag data of a tree entry being moved inside the tree. */
const MOVE_TYPE = "application/x-oqto-path";

interface TreeProps {
  browser: FileBrowser;
  /** Opens the context menu for an entry (null: the empty area) at a viewport point. */
  onMenu: (node: FileNode | null, x: number, y: number) => void;
}

/**
 * The workspace tree (ARIA tree with roving focus): arrows move, Right/Left expand and collapse,
 * Enter opens, F2 renames, Delete deletes, the context-menu key opens the menu. Files dropped on a
 * folder upload into it; entries dragged onto a folder move into it.
 */
export function FileTreeView({ browser, onMenu }: TreeProps) {
  const root = browser.tree.root;
  const children = root.children.value;

  const onKeyDown = (event: KeyboardEvent) => {
    const rows = [...(event.currentTarget as HTMLElement).querySelectorAll<HTMLElement>("[role=treeitem]")];
    const current = (event.target as HTMLElement).closest<HTMLElement>("[role=treeitem]");
    const index = current ? rows.indexOf(current) : -1;
    const node = current?.dataset.path ? browser.tree.node(current.dataset.path) : undefined;
    const focusRow = (row: HTMLElement | undefined) => {
      if (!row) return;
      row.focus();
      if (row.dataset.path) browser.selected.value = row.dataset.path;
    };
    switch (event.key) {
      case "ArrowDown":
        focusRow(rows[index + 1]);
        break;
      case "ArrowUp":
        focusRow(rows[index - 1]);
        break;
      case "Home":
        focusRow(rows[0]);
        break;
      case "End":
        focusRow(rows[rows.length - 1]);
        break;
      case "ArrowRight":
        if (node?.isDirectory && !node.expanded.value) void browser.tree.expand(node);
        else if (node?.isDirectory) focusRow(rows[index + 1]);
        break;
      case "ArrowLeft":
        if (node?.isDirectory && node.expanded.value) node.expanded.value = false;
        else if (node) focusRow(rows.find((row) => row.dataset.path === parentOf(node.path)));
        break;
      case "Enter":
      case " ":
        if (node) activate(browser, node);
        break;
      case "F2":
        if (node) void browser.rename(node);
        break;
      case "Delete":
        if (node) void browser.remove(node);
        break;
      case "ContextMenu": {
        const box = current?.getBoundingClientRect();
        if (node && box) onMenu(node, box.left + 24, box.bottom);
        break;
      }
      default:
        if (event.key === "F10" && event.shiftKey && node && current) {
          const box = current.getBoundingClientRect();
          onMenu(node, box.left + 24, box.bottom);
          break;
        }
        return;
    }
    event.preventDefault();
  };

  return (
    <section
      class="file-tree"
      aria-label="Workspace files"
      onContextMenu={(event) => {
        if ((event.target as HTMLElement).closest("[role=treeitem]")) return;
        event.preventDefault();
        onMenu(null, event.clientX, event.clientY);
      }}
      {...dropHandlers(browser, ROOT_PATH)}
      data-testid="file-tree"
    >
      {root.error.value && (
        <p class="files-note error" role="alert">
          {root.error.value}{" "}
          <button type="button" class="link-button" onClick={() => void browser.tree.load(root)}>
            Try again
          </button>
        </p>
      )}
      {children === null && !root.error.value && <p class="files-note">Loading files…</p>}
      {children?.length === 0 && (
        <p class="files-note">This workspace is empty. Drop files here to upload.</p>
      )}
      {children && children.length > 0 && (
        <div role="tree" aria-label="Workspace files" onKeyDown={onKeyDown} tabIndex={-1}>
          {children.map((child, index) => (
            <TreeRow
              key={child.path}
              browser={browser}
              node={child}
              level={1}
              first={index === 0}
              onMenu={onMenu}
            />
          ))}
          <MoreRow browser={browser} directory={root} level={1} />
        </div>
      )}
    </section>
  );
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? ROOT_PATH : path.slice(0, slash);
}

/** Click or Enter on an entry: folders open and close, files open in the preview. */
function activate(browser: FileBrowser, node: FileNode): void {
  if (node.isDirectory) {
    browser.selected.value = node.path;
    browser.tree.toggle(node);
  } else {
    void browser.openFile(node.path);
  }
}

interface RowProps extends TreeProps {
  node: FileNode;
  level: number;
  /** The first row is the tree's tab stop while nothing is selected. */
  first: boolean;
}

/** One entry; it re-renders only for its own changes (selection is a computed per row). */
function TreeRow({ browser, node, level, first, onMenu }: RowProps) {
  const selected = useComputed(() => browser.selected.value === node.path);
  const tabStop = useComputed(
    () => selected.value || (first && level === 1 && browser.selected.value === null),
  );
  const open = useComputed(() => browser.document.value?.path === node.path);
  const expanded = node.expanded.value;
  const children = node.children.value;
  const size = node.size.value;
  return (
    <div role="none">
      {/* biome-ignore lint/a11y/useKeyWithClickEvents: keys are handled by the tree (roving focus, see FileTreeView) */}
      <div
        role="treeitem"
        class="tree-row"
        tabIndex={tabStop.value ? 0 : -1}
        aria-level={level}
        aria-selected={selected.value}
        aria-expanded={node.isDirectory ? expanded : undefined}
        aria-current={open.value ? "true" : undefined}
        style={{ "--level": level }}
        draggable
        onClick={() => activate(browser, node)}
        onContextMenu={(event) => {
          event.preventDefault();
          browser.selected.value = node.path;
          onMenu(node, event.clientX, event.clientY);
        }}
        onDragStart={(event) => {
          event.dataTransfer?.setData(MOVE_TYPE, node.path);
          if (event.dataTransfer) event.dataTransfer.effectAllowed = "move";
        }}
        {...(node.isDirectory ? dropHandlers(browser, node.path) : {})}
        data-testid="file-node"
        data-path={node.path}
        data-type={node.type}
      >
        <span class="tree-chevron" data-open={expanded} aria-hidden="true">
          {node.isDirectory && <ChevronIcon size={12} />}
        </span>
        <FileTypeIcon path={node.path} type={node.type} open={expanded} />
        <span class="tree-name">{node.name}</span>
        {size !== undefined && !node.isDirectory && <span class="tree-size">{formatBytes(size)}</span>}
        <button
          type="button"
          class="icon-button small tree-more"
          tabIndex={-1}
          aria-label={`Actions for ${node.name}`}
          onClick={(event) => {
            event.stopPropagation();
            browser.selected.value = node.path;
            const box = event.currentTarget.getBoundingClientRect();
            onMenu(node, box.left, box.bottom);
          }}
          data-testid="file-node-menu"
        >
          <MoreIcon size={14} />
        </button>
      </div>
      {node.isDirectory && expanded && (
        // biome-ignore lint/a11y/useSemanticElements: the ARIA tree pattern nests child rows in a group
        <div role="group">
          {node.error.value && (
            <div role="none" class="files-note error" style={{ "--level": level + 1 }}>
              {node.error.value}
            </div>
          )}
          {children === null && node.loading.value && (
            <div role="none" class="files-note" style={{ "--level": level + 1 }}>
              Loading…
            </div>
          )}
          {children?.length === 0 && (
            <div role="none" class="files-note tree-empty" style={{ "--level": level + 1 }}>
              Empty folder
            </div>
          )}
          {children?.map((child) => (
            <TreeRow
              key={child.path}
              browser={browser}
              node={child}
              level={level + 1}
              first={false}
              onMenu={onMenu}
            />
          ))}
          <MoreRow browser={browser} directory={node} level={level + 1} />
        </div>
      )}
    </div>
  );
}

/** "Load more" for a directory listed in pages. */
function MoreRow({
  browser,
  directory,
  level,
}: {
  browser: FileBrowser;
  directory: FileNode;
  level: number;
}) {
  if (!directory.hasMore.value) return null;
  return (
    <div role="none" class="files-note" style={{ "--level": level }}>
      <button
        type="button"
        class="link-button"
        disabled={directory.loading.value}
        onClick={() => void browser.tree.loadMore(directory)}
      >
        Show more entries
      </button>
    </div>
  );
}

/** Drop handling for a folder row (or the tree's empty area for the root). */
function dropHandlers(browser: FileBrowser, folder: string) {
  const accepts = (event: DragEvent) => {
    const types = event.dataTransfer?.types ?? [];
    return types.includes("Files") || types.includes(MOVE_TYPE);
  };
  const mark = (event: DragEvent, on: boolean) => {
    const target = event.currentTarget as HTMLElement;
    if (on) target.dataset.dropTarget = "true";
    else delete target.dataset.dropTarget;
  };
  return {
    onDragOver: (event: DragEvent) => {
      if (!accepts(event)) return;
      // The innermost folder under the pointer takes the drop.
      event.preventDefault();
      event.stopPropagation();
      if (event.dataTransfer)
        event.dataTransfer.dropEffect = event.dataTransfer.types.includes(MOVE_TYPE) ? "move" : "copy";
      mark(event, true);
    },
    onDragLeave: (event: DragEvent) => mark(event, false),
    onDrop: (event: DragEvent) => {
      if (!accepts(event) || !event.dataTransfer) return;
      event.preventDefault();
      event.stopPropagation();
      mark(event, false);
      const moved = event.dataTransfer.getData(MOVE_TYPE);
      if (moved) {
        const node = browser.tree.node(moved);
        if (node) {
          browser.move(node, folder).catch((error: unknown) => {
            browser.notice.value = `Could not move ${node.name}: ${errorText(error)}`;
          });
        }
        return;
      }
      droppedFiles(event.dataTransfer).then(
        (files) => browser.upload(files, folder),
        (error: unknown) => {
          browser.notice.value = `Could not read the dropped files: ${errorText(error)}`;
        },
      );
    },
  };
}
