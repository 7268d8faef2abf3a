import { iconKind } from "../../lib/file-kinds.ts";
import type { EntryType } from "../../state/files/file-tree.ts";
import {
  ArchiveIcon,
  FileCodeIcon,
  FileIcon,
  FileTextIcon,
  FolderIcon,
  FolderOpenIcon,
  ImageIcon,
  LinkIcon,
} from "../common/icons.tsx";

/** The icon of a tree entry, by type and extension. */
export function FileTypeIcon({ path, type, open }: { path: string; type: EntryType; open?: boolean }) {
  const kind = iconKind(path, type);
  const Icon =
    kind === "folder"
      ? open
        ? FolderOpenIcon
        : FolderIcon
      : kind === "image"
        ? ImageIcon
        : kind === "code"
          ? FileCodeIcon
          : kind === "text" || kind === "pdf"
            ? FileTextIcon
            : kind === "archive"
              ? ArchiveIcon
              : kind === "symlink"
                ? LinkIcon
                : FileIcon;
  return (
    <span class="file-icon" data-kind={kind}>
      <Icon size={15} />
    </span>
  );
}
