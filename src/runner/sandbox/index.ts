/** The sandbox core (SANDBOX.md): what the runner uses to start agents and terminals under bwrap. */
export { buildSandboxedCommand, type SandboxCommandOptions } from "./argv-builder.ts";
export { type BwrapInfo, detectBwrap } from "./detect.ts";
export { type EffectiveProfile, isNetworkIsolated, type SandboxPolicy } from "./effective-profile.ts";
export { prepareSandboxDirs } from "./prepare.ts";
export { type ResolveOptions, resolveEffectiveProfile } from "./profile-loader.ts";
export { BUILTIN_PROFILE_NAMES } from "./profile-schema.ts";
