import { z } from "zod";
import { CreateWorkspaceRequest, FileUploaded } from "../../protocol/rest.ts";
import { SandboxView, SetSandboxRequest, Workspace, WorkspaceName } from "../../protocol/runner.ts";
import { empty, json, type RouteDoc } from "./route-doc.ts";

const WorkspacePath = z.object({ name: WorkspaceName });
/** The file's path in the workspace: percent-encoded segments, `/` between them. */
const FilePath = z.object({
  name: WorkspaceName,
  path: z.string().meta({ description: "the path in the workspace; it may contain `/`" }),
});
/** A flag the file routes compare with "1" (any other value is off). */
const flag = (description: string) =>
  z
    .string()
    .optional()
    .meta({ description: `\`1\`: ${description}` });
/** File bytes travel with the file's own type. */
const binary = { schema: z.string().meta({ format: "binary" }) };
const bytes = { "*/*": binary };
const DownloadHeaders = z.object({
  ETag: z.string(),
  "Last-Modified": z.string(),
  "Accept-Ranges": z.string(),
  "Content-Disposition": z.string().optional(),
});

/** The caller's workspaces, their sandbox profile, and file bytes. */
export const WORKSPACE_ROUTES: RouteDoc[] = [
  {
    method: "get",
    path: "/api/workspaces",
    operationId: "listWorkspaces",
    summary: "The caller's workspaces",
    tag: "workspaces",
    auth: "user",
    runner: true,
    responses: { 200: json(z.array(Workspace), "the workspaces") },
  },
  {
    method: "post",
    path: "/api/workspaces",
    operationId: "createWorkspace",
    summary: "Make a workspace",
    tag: "workspaces",
    auth: "user",
    runner: true,
    body: CreateWorkspaceRequest,
    responses: { 201: json(Workspace, "the workspace") },
    errors: { BAD_REQUEST: "a bad name", CONFLICT: "it exists" },
  },
  {
    method: "get",
    path: "/api/workspaces/:name/sandbox",
    operationId: "getWorkspaceSandbox",
    summary: "The sandbox profile a workspace runs under",
    tag: "workspaces",
    auth: "user",
    runner: true,
    params: { path: WorkspacePath },
    responses: { 200: json(SandboxView, "the sandbox") },
    errors: { BAD_REQUEST: "a bad workspace name", NOT_FOUND: "no such workspace" },
  },
  {
    method: "put",
    path: "/api/workspaces/:name/sandbox",
    operationId: "setWorkspaceSandbox",
    summary: "Select a sandbox profile (only a stricter one)",
    tag: "workspaces",
    auth: "user",
    runner: true,
    params: { path: WorkspacePath },
    body: SetSandboxRequest,
    responses: { 200: json(SandboxView, "the sandbox") },
    errors: {
      BAD_REQUEST: "a looser or unknown profile",
      NOT_FOUND: "no such workspace",
      BAD_GATEWAY: "a sandbox file that fails to load",
    },
  },
  {
    method: "get",
    path: "/api/workspaces/:name/files/*",
    operationId: "downloadFile",
    summary: "A file's bytes (one Range), or a folder as ZIP",
    description:
      "ETag (strong), Last-Modified, `If-None-Match` (304), `If-Range`, one `Range: bytes=` range (206). Non-passive types download as attachments unless `inline=1`; every answer carries a CSP sandbox.",
    tag: "files",
    auth: "user",
    runner: true,
    params: {
      path: FilePath,
      query: z.object({
        download: flag("always as an attachment"),
        inline: flag("the preview's inline view of a non-passive type"),
        zip: flag("the folder as a ZIP"),
      }),
      header: z.object({
        Range: z.string().optional(),
        "If-None-Match": z.string().optional(),
        "If-Range": z.string().optional(),
      }),
    },
    responses: {
      200: {
        description: "the whole file, or the ZIP",
        content: { ...bytes, "application/zip": binary },
        headers: DownloadHeaders,
      },
      206: {
        description: "the range asked for",
        content: bytes,
        headers: DownloadHeaders.extend({ "Content-Range": z.string() }),
      },
      304: empty("the client's copy is current"),
    },
    errors: {
      BAD_REQUEST: "malformed percent-encoding or a NUL, a malformed `bytes` range, or several ranges",
      FORBIDDEN: "the path escapes the workspace",
      NOT_FOUND: "no such file",
      RANGE_NOT_SATISFIABLE: "a range past the end (Content-Range: bytes */size)",
    },
  },
  {
    method: "put",
    path: "/api/workspaces/:name/files/*",
    operationId: "uploadFile",
    summary: "Write a file from the raw request body (streamed)",
    description:
      "`If-Match: <etag>` writes only over that version; `If-None-Match: *` only creates. The body streams to the runner and is committed at its end.",
    tag: "files",
    auth: "user",
    runner: true,
    params: {
      path: FilePath,
      query: z.object({
        create_parents: flag("make missing parent folders"),
        overwrite: z.string().optional().meta({ description: "`0`: refuse to replace an existing file" }),
      }),
      header: z.object({ "If-Match": z.string().optional(), "If-None-Match": z.string().optional() }),
    },
    rawBody: { description: "the file's bytes", content: bytes },
    responses: {
      200: json(FileUploaded, "replaced", z.object({ ETag: z.string() })),
      201: json(FileUploaded, "created", z.object({ ETag: z.string() })),
    },
    errors: {
      BAD_REQUEST: "a bad path or precondition header",
      FORBIDDEN: "the path escapes the workspace",
      NOT_FOUND: "a parent folder is missing",
      CONFLICT: "it exists and `overwrite=0`",
      PRECONDITION_FAILED: "`If-Match` names another version, or `If-None-Match: *` and it exists",
      PAYLOAD_TOO_LARGE: "over `server.max_upload_mb`",
      RATE_LIMITED: "the user already has 8 uploads in flight",
    },
  },
];
