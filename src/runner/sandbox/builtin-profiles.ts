import developmentToml from "../../../sandbox-profiles/development.toml" with { type: "text" };
import minimalToml from "../../../sandbox-profiles/minimal.toml" with { type: "text" };
import strictToml from "../../../sandbox-profiles/strict.toml" with { type: "text" };
import type { BuiltinProfileName } from "./profile-schema.ts";

/** The built-in profile files, embedded in the binary as text and validated like any other file. */
export const BUILTIN_PROFILE_SOURCES: Record<BuiltinProfileName, string> = {
  minimal: minimalToml,
  development: developmentToml,
  strict: strictToml,
};

/** How errors and the REST view name a built-in profile's file. */
export const builtinProfileFile = (name: BuiltinProfileName): string => `sandbox-profiles/${name}.toml`;
