import { useSignal } from "@preact/signals";
import { useCallback, useEffect, useRef } from "preact/hooks";
import type { Workspace } from "../../../../src/protocol/index.ts";
import { fileUrl, startDownload } from "../../lib/file-urls.ts";
import { ROOT_PATH } from "../../lib/paths.ts";
import { mux } from "../../state/connection.ts";
import { type FileBrowser, fileBrowserFor, relativeUploadPath } from "../../state/files/file-browser.ts";
import type { FileNode } from "../../state/files/file-tree.ts";
import { ContextMenu, type MenuItem } from "../common/ContextMenu.tsx";
import { IconButton } from "../common/IconButton.tsx";
import {
  CloseIcon,
  DownloadIcon,
  EditIcon,
  FileIcon,
  FilePlusIcon,
  FolderPlusIcon,
  RefreshIcon,
  TrashIcon,
  UploadIcon,
} from "../common/icons.tsx";
import { FilePreview } from "./FilePreview.tsx";
import { FileTreeView } from "./FileTreeView.tsx";
import { UploadList } from "./UploadList.tsx";

interface MenuState {
  node: FileNode | null;
  x: number;
  y: number;
}

/** The workspace's files: toolbar, tree, uploads and the open file. */
export function FilesPanel({ workspace }: { workspace: Workspace }) {
  const browser = fileBrowserFor(mux, workspace);
  const menu = useSignal<MenuState | null>(null);
  const upload = useRef<HTMLInputElement>(null);
  /** Folder the file picker uploads into. */
  const uploadTarget = useRef(ROOT_PATH);

  useEffect(() => browser.activate(), [browser]);

  const pickFiles = (folder: string) => {
    uploadTarget.current = folder;
    upload.current?.click();
  };
  const openMenu = useCallback((node: FileNode | null, x: number, y: number) => {
    menu.value = { node, x, y };
  }, []);
  const closeMenu = useCallback(() => {
    menu.value = null;
  }, []);

  const selectedNode = () => {
    const path = browser.selected.value;
    return path ? (browser.tree.node(path) ?? null) : null;
  };
  const document = browser.document.value;
  const notice = browser.notice.value;
  return (
    <div class="files-panel" data-has-document={document !== null} data-testid="files-panel">
      <div class="files-tree-pane">
        <div class="files-toolbar" role="toolbar" aria-label="File actions">
          <IconButton
            label="New file"
            onClick={() => void browser.createFile(browser.targetDirectory(selectedNode()))}
            testId="files-new-file"
          >
            <FilePlusIcon size={17} />
          </IconButton>
          <IconButton
            label="New folder"
            onClick={() => void browser.createFolder(browser.targetDirectory(selectedNode()))}
            testId="files-new-folder"
          >
            <FolderPlusIcon size={17} />
          </IconButton>
          <IconButton
            label="Upload files"
            title="Upload files (or drop them on a folder)"
            onClick={() => pickFiles(browser.targetDirectory(selectedNode()))}
            testId="files-upload"
          >
            <UploadIcon size={17} />
          </IconButton>
          <IconButton label="Refresh" onClick={() => browser.tree.refreshAll()}>
            <RefreshIcon size={17} />
          </IconButton>
          <IconButton
            label="Download the workspace as a zip"
            title="Download all (zip)"
            onClick={() => startDownload(fileUrl(workspace.name, ROOT_PATH, { zip: true }))}
          >
            <DownloadIcon size={17} />
          </IconButton>
          <span
            class="watch-dot"
            data-on={browser.watching.value}
            title={browser.watching.value ? "Live: changes appear by themselves" : "Not watching for changes"}
            aria-hidden="true"
          />
          <input
            ref={upload}
            type="file"
            multiple
            class="visually-hidden"
            tabIndex={-1}
            aria-hidden="true"
            onChange={(event) => {
              const input = event.currentTarget;
              const files = [...(input.files ?? [])].map((file) => ({
                file,
                relativePath: relativeUploadPath(file),
              }));
              browser.upload(files, uploadTarget.current);
              input.value = "";
            }}
            data-testid="file-upload-input"
          />
        </div>
        {notice && (
          <p class="file-notice error" role="alert">
            <span>{notice}</span>
            <button
              type="button"
              class="icon-button small"
              aria-label="Dismiss"
              onClick={() => {
                browser.notice.value = null;
              }}
            >
              <CloseIcon size={12} />
            </button>
          </p>
        )}
        <FileTreeView browser={browser} onMenu={openMenu} />
        <UploadList queue={browser.uploads} />
      </div>
      {document && <FilePreview key={document.path} browser={browser} document={document} />}
      {menu.value && (
        <ContextMenu
          x={menu.value.x}
          y={menu.value.y}
          label={menu.value.node ? `Actions for ${menu.value.node.name}` : "Workspace actions"}
          items={menuItems(browser, menu.value.node, pickFiles)}
          onClose={closeMenu}
        />
      )}
    </div>
  );
}

function menuItems(
  browser: FileBrowser,
  node: FileNode | null,
  pickFiles: (folder: string) => void,
): MenuItem[] {
  const folder = browser.targetDirectory(node);
  const create: MenuItem[] = [
    { label: "New file", icon: <FilePlusIcon size={14} />, onSelect: () => void browser.createFile(folder) },
    {
      label: "New folder",
      icon: <FolderPlusIcon size={14} />,
      onSelect: () => void browser.createFolder(folder),
    },
    { label: "Upload here", icon: <UploadIcon size={14} />, onSelect: () => pickFiles(folder) },
  ];
  if (!node) {
    return [
      ...create,
      { label: "Refresh", icon: <RefreshIcon size={14} />, onSelect: () => browser.tree.refreshAll() },
    ];
  }
  const entry: MenuItem[] = [
    {
      label: "Rename…",
      icon: <EditIcon size={14} />,
      onSelect: () => void browser.rename(node),
      testId: "menu-rename",
    },
    {
      label: "Move to…",
      icon: <FolderPlusIcon size={14} />,
      onSelect: () => void browser.moveTo(node),
      testId: "menu-move",
    },
    {
      label: node.isDirectory ? "Download as zip" : "Download",
      icon: <DownloadIcon size={14} />,
      onSelect: () => startDownload(browser.downloadUrl(node)),
      testId: "menu-download",
    },
    {
      label: "Delete",
      icon: <TrashIcon size={14} />,
      danger: true,
      onSelect: () => void browser.remove(node),
      testId: "menu-delete",
    },
  ];
  if (node.isDirectory) return [...create, ...entry];
  return [
    {
      label: "Open",
      icon: <FileIcon size={14} />,
      onSelect: () => void browser.openFile(node.path),
      testId: "menu-open",
    },
    ...entry,
  ];
}
