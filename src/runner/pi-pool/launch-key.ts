/**
 * What a pi process is started with beyond its workspace: the pi config the runner copies into
 * every agent (models.json, settings.json). A warm spare made before the config changed (an admin
 * added a provider) must not be handed out, so this is part of its launch key.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MODELS_FILE, SETTINGS_FILE } from "../models-files.ts";

export function piConfigFingerprint(agentDir: string): string {
  const hash = createHash("sha256");
  for (const file of [MODELS_FILE, SETTINGS_FILE]) {
    try {
      hash.update(readFileSync(join(agentDir, file)));
    } catch {
      hash.update("(none)");
    }
    hash.update("\0");
  }
  return hash.digest("hex");
}
