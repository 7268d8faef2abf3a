/**
 * The runner's link to history (HSTRY.md §5, §6): the embedded `oqto hstry` as a supervised child
 * (default), or an external hstry named by `[hstry] socket|url` (nothing is started then).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { dataPaths, expandHome } from "../../config/paths.ts";
import type { Config } from "../../config/schema.ts";
import { createHistoryClient, type HistoryClient, type HistoryTarget } from "../../history/client.ts";
import { createHistoryStore, type HistoryStore } from "../../history/history-store.ts";
import { historyDbPath } from "../../history/service/paths.ts";
import { ProtocolError } from "../../protocol/common.ts";
import { selfCommand } from "../../shared/self-command.ts";
import { HstryProcess } from "./hstry-process.ts";

/** How long the runner waits at start for the embedded service to answer. */
const READY_TIMEOUT_MS = 15_000;
/** Every history call answers within this time or counts as unavailable: a turn never hangs on it. */
const HISTORY_CALL_TIMEOUT_MS = 10_000;
const HSTRY_SOCKET_FILE = "hstry.sock";
const HSTRY_PID_FILE = "hstry.pid";

export interface HistoryConnection {
  store: HistoryStore;
  mode: "embedded" | "external";
  /** `ok`: the last call reached history (and the embedded service runs). */
  status(): { mode: string; ok: boolean };
  stop(): Promise<void>;
}

export interface ConnectHistoryOptions {
  config: Config;
  dataDir: string;
  log: (message: string) => void;
  /** argv prefix that runs `oqto` (default: this program, see selfCommand). */
  oqtoCommand?: string[];
  /** The config file the runner was given, passed on so the service never reads another one. */
  configFile?: string;
}

export async function connectHistory(options: ConnectHistoryOptions): Promise<HistoryConnection> {
  const { config, log } = options;
  const external = config.hstry;
  if (external) {
    const target: HistoryTarget = external.socket
      ? { socketPath: expandHome(external.socket) }
      : { url: external.url as string };
    const client = createHistoryClient(target);
    const health = { ok: true };
    const store = observedStore(createHistoryStore(client), health);
    if (!(await answers(client))) {
      health.ok = false;
      log(`warning: the external hstry at ${describe(target)} does not answer yet`);
    }
    return {
      store,
      mode: "external",
      status: () => ({ mode: "external", ok: health.ok }),
      stop: async () => client.close(),
    };
  }

  const stateDir = dataPaths(options.dataDir).runnerState;
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const socketPath = join(stateDir, HSTRY_SOCKET_FILE);
  const service = new HstryProcess({
    argv: [
      ...(options.oqtoCommand ?? selfCommand()),
      "hstry",
      ...(options.configFile ? ["--config", options.configFile] : []),
      "--data-dir",
      options.dataDir,
      "--socket",
      socketPath,
      "--db",
      historyDbPath(options.dataDir),
      "--parent-pid",
      String(process.pid),
    ],
    socketPath,
    pidFile: join(stateDir, HSTRY_PID_FILE),
    log,
  });
  await service.start();
  const client = createHistoryClient({ socketPath });
  const health = { ok: true };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await answers(client))) {
    if (Date.now() > deadline) {
      health.ok = false;
      log(`warning: the history service did not answer on ${socketPath} within ${READY_TIMEOUT_MS} ms`);
      break;
    }
    await Bun.sleep(50);
  }
  return {
    store: observedStore(createHistoryStore(client), health),
    mode: "embedded",
    status: () => ({ mode: "embedded", ok: health.ok && service.isAlive }),
    stop: async () => {
      client.close();
      await service.stop();
    },
  };
}

function describe(target: HistoryTarget): string {
  return "socketPath" in target ? target.socketPath : target.url;
}

/** One cheap read: does the service answer at all? */
async function answers(client: HistoryClient): Promise<boolean> {
  try {
    await client.read.listConversations({ sourceId: "pi", limit: 1n }, { timeoutMs: 2_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Wraps every store call with a deadline and records whether history was reachable: an unanswered
 * call becomes `history_unavailable` like a refused connection.
 */
function observedStore(store: HistoryStore, health: { ok: boolean }): HistoryStore {
  const wrap =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new ProtocolError(
                "history_unavailable",
                `history did not answer within ${HISTORY_CALL_TIMEOUT_MS} ms`,
              ),
            ),
          HISTORY_CALL_TIMEOUT_MS,
        );
      });
      try {
        const result = await Promise.race([call(...args), deadline]);
        health.ok = true;
        return result;
      } catch (error) {
        if (error instanceof ProtocolError && error.code === "history_unavailable") health.ok = false;
        throw error;
      } finally {
        clearTimeout(timer);
      }
    };
  return {
    ensureConversation: wrap(store.ensureConversation.bind(store)),
    appendMessages: wrap(store.appendMessages.bind(store)),
    writeConversation: wrap(store.writeConversation.bind(store)),
    updateConversation: wrap(store.updateConversation.bind(store)),
    deleteConversation: wrap(store.deleteConversation.bind(store)),
    getConversation: wrap(store.getConversation.bind(store)),
    getMessages: wrap(store.getMessages.bind(store)),
    listConversations: wrap(store.listConversations.bind(store)),
    search: wrap(store.search.bind(store)),
  };
}
