import { z } from "zod";

/** The fields of the effective policy (`effective` of the sandbox view) that the summary explains. */
const EffectivePolicy = z.object({
  allow_write: z.array(z.string()),
  isolate_network: z.boolean(),
  network: z.object({ mode: z.string() }),
  deny_read: z.array(z.string()),
});

/** One line on what a workspace's policy means for its agents and terminals. */
export function describeSandbox(enabled: boolean, effective: Record<string, unknown>): string {
  if (!enabled) return "Sandbox off: agents and terminals run with the user's full access.";
  const parsed = EffectivePolicy.safeParse(effective);
  if (!parsed.success) return "The server sent a policy this page cannot read.";
  const policy = parsed.data;
  const isolated = policy.isolate_network || policy.network.mode === "isolated";
  const network = isolated ? "network isolated" : `network ${policy.network.mode}`;
  // Paths arrive expanded for the user; their last segment (.ssh, .aws, …) is what a reader recognises.
  const lastSegment = (path: string) => path.split("/").pop() || path;
  // Every profile's home is read-only (issue 10); only allow_write opens holes in it.
  const writable = policy.allow_write.map(lastSegment);
  const home = writable.length > 0 ? `home read-only, writable: ${writable.join(", ")}` : "home read-only";
  const hidden = policy.deny_read.map(lastSegment);
  const secrets = hidden.length > 0 ? `hidden: ${hidden.join(", ")}` : "nothing hidden";
  // Under isolation the runner's LLM bridge is the one way out; saying so explains why the model still answers.
  const agents = isolated ? " Agents reach only their LLM, through Oqto's bridge." : "";
  return `Sandboxed: ${network}, ${home}, ${secrets}.${agents}`;
}
