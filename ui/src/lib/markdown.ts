import DOMPurify from "dompurify";
import { marked } from "marked";

/** Where a blocked image's address waits for the user's click (see MarkdownText). */
export const REMOTE_IMAGE_ATTR = "data-remote-src";

/** An image address that would make the browser ask another origin (data: and blob: stay local). */
export function isRemoteImage(src: string): boolean {
  try {
    const url = new URL(src, location.href);
    return url.protocol !== "data:" && url.protocol !== "blob:" && url.origin !== location.origin;
  } catch {
    return false;
  }
}

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  // Links in agent output leave the app; never let them reuse this window's opener.
  if (node instanceof HTMLAnchorElement && node.hasAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
  // Showing an answer must not send data anywhere: an image from another origin is fetched only
  // when the user asks. The swap happens in DOMPurify's inert document, before anything loads.
  if (node instanceof HTMLImageElement) {
    const src = node.getAttribute("src") ?? "";
    if (isRemoteImage(src)) {
      node.removeAttribute("src");
      node.setAttribute(REMOTE_IMAGE_ATTR, src);
    }
  }
});

/**
 * Markdown to sanitized HTML. Agent output is untrusted: every rendered string passes DOMPurify,
 * and nothing in it may load from another origin by itself (no style, srcset, media or frames).
 */
export function renderMarkdown(text: string): string {
  const html = marked.parse(text, { async: false, gfm: true, breaks: false });
  return DOMPurify.sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ["style", "video", "audio", "source", "track", "picture", "iframe", "object", "embed"],
    FORBID_ATTR: ["style", "srcset", "poster", "background"],
  });
}
