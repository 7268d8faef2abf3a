import type { StatusProcess, StatusReport } from "./status-report.ts";

function duration(seconds: number): string {
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

const proc = (p: StatusProcess) => `pid ${p.pid} as ${p.user}, up ${duration(p.uptime_s)}`;

/** The one line for a server that is not running (exit 3). */
export function notRunningLine(report: StatusReport): string {
  const where = report.server.url
    ? `nothing answers at ${report.server.url}`
    : "the config gives no port to try";
  return `oqto is not running: no oqto serve process for data dir ${report.data_dir}, and ${where}`;
}

/** `oqto status` for people: one line per component. */
export function formatStatus(report: StatusReport): string {
  const { server } = report;
  if (!server.process && !server.reachable) return notRunningLine(report);
  const lines: string[] = [];
  const serverParts = [
    server.reachable ? "running" : `not answering (${server.error ?? "unknown"})`,
    server.process ? proc(server.process) : "process not visible here",
    server.url ?? "address unknown",
    ...(server.version ? [`version ${server.version}`] : []),
  ];
  lines.push(`server    ${serverParts.join(", ")} (${report.mode})`);
  if (report.mode === "multi-user")
    lines.push(`helper    ${report.helper ? proc(report.helper) : "no privileged helper process found"}`);
  if (report.runners.length === 0) lines.push("runners   none running");
  for (const runner of report.runners) {
    lines.push(`runner    ${proc(runner)}, ${runner.pi_processes} pi process(es)`);
    if (runner.history.length === 0) lines.push("  history none (external hstry, or not started)");
    for (const history of runner.history) lines.push(`  history ${proc(history)}`);
  }
  const { sessions } = report;
  if (sessions.known) {
    const states = Object.entries(sessions.by_state)
      .filter(([state, count]) => count > 0 && state !== "closed")
      .map(([state, count]) => `${count} ${state}`);
    lines.push(
      `sessions  ${sessions.open} open${states.length > 0 ? ` (${states.join(", ")})` : ""}; ` +
        `${sessions.websocket_connections} WebSocket connection(s), ${sessions.runners_connected} runner(s) connected, ` +
        `${sessions.runner_restarts} runner restart(s)`,
    );
  } else lines.push(`sessions  unknown (${sessions.reason})`);
  const serverVersion = server.version ?? "unknown";
  const mismatch =
    server.version && server.version !== report.cli_version
      ? " (differ: restart the service after an upgrade)"
      : "";
  lines.push(`versions  oqto ${report.cli_version} here, server ${serverVersion}${mismatch}`);
  return lines.join("\n");
}
