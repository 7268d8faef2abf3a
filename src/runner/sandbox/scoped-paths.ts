import { ProtocolError } from "../../protocol/common.ts";
import { isInside, normalizeAbsolute } from "./paths.ts";
import type { ScopedPathRule, ScopedPathTransform } from "./profile-schema.ts";

function applyTransform(value: string, transform: ScopedPathTransform): string {
  switch (transform.op) {
    case "strip_prefix":
      return value.startsWith(transform.value) ? value.slice(transform.value.length) : value;
    case "replace":
      return value.replaceAll(transform.from, transform.to);
    case "wrap":
      return `${transform.prefix}${value}${transform.suffix}`;
  }
}

/**
 * The one path below `base_path` a scoped rule exposes for this workspace (for the built-in
 * pi-sessions rule: the workspace's own session shard). Throws when the computed target would
 * escape its base, so that no transform can widen what the rule exposes.
 */
export function scopedPathTarget(rule: ScopedPathRule, workspace: string): string {
  const source = rule.source === "workspace_path" ? workspace : (rule.source_literal ?? "");
  const value = rule.transforms.reduce(applyTransform, source);
  const target = rule.target_template.replaceAll("{base_path}", rule.base_path).replaceAll("{value}", value);
  const normalized = normalizeAbsolute(target);
  const segments = target.split("/");
  if (segments.includes("..") || normalized === rule.base_path || !isInside(normalized, rule.base_path)) {
    throw new ProtocolError(
      "sandbox_error",
      `scoped path '${rule.name}': target '${target}' is not strictly inside '${rule.base_path}'`,
    );
  }
  return normalized;
}
