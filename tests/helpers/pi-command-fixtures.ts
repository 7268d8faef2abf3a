import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Gives a workspace a prompt template (`/haiku`) and a skill (`/skill:tidy-notes`), so pi's
 * `get_commands` has known entries of both kinds.
 */
export function addPromptTemplateAndSkill(workspace: string): void {
  mkdirSync(join(workspace, ".pi/prompts"), { recursive: true });
  writeFileSync(
    join(workspace, ".pi/prompts/haiku.md"),
    "---\ndescription: Write a haiku about a topic\n---\nWrite a haiku about $1, in the style of Basho.\n",
  );
  mkdirSync(join(workspace, ".pi/skills/tidy-notes"), { recursive: true });
  writeFileSync(
    join(workspace, ".pi/skills/tidy-notes/SKILL.md"),
    "---\nname: tidy-notes\ndescription: Tidy a notes file\n---\nSort the notes and remove duplicates.\n",
  );
}
