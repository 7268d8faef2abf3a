import { ROOT_PATH } from "./paths.ts";

/** REST URL of a workspace file or folder (PROTOCOL.md §4.2); the auth cookie goes with it. */
export function fileUrl(
  workspaceName: string,
  path: string,
  options: {
    download?: boolean;
    /** The preview's own view of a non-passive type (the server still sends it sandboxed). */
    inline?: boolean;
    zip?: boolean;
    createParents?: boolean;
    version?: number;
  } = {},
): string {
  const encoded = path === ROOT_PATH ? "" : path.split("/").map(encodeURIComponent).join("/");
  const search = new URLSearchParams();
  if (options.download) search.set("download", "1");
  if (options.inline) search.set("inline", "1");
  if (options.zip) search.set("zip", "1");
  if (options.createParents) search.set("create_parents", "1");
  // Changes the URL when the file changes, so an <img> or <iframe> shows the new bytes.
  if (options.version) search.set("v", String(options.version));
  const text = search.toString();
  return `/api/workspaces/${encodeURIComponent(workspaceName)}/files/${encoded}${text ? `?${text}` : ""}`;
}

/** Starts a browser download of `url` without leaving the page. */
export function startDownload(url: string): void {
  const anchor = document.createElement("a");
  anchor.href = url;
  anchor.download = "";
  anchor.rel = "noopener";
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
}
