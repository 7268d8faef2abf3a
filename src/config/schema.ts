import { z } from "zod";
import { ENV_REF_PREFIX } from "./env-ref.ts";

/**
 * The configuration file (TOML). Every table is strict: an unknown key is an error that names
 * the key, because config that is not enforced must fail loudly.
 */
export const ConfigSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().min(1).default("127.0.0.1"),
      port: z.number().int().min(0).max(65535).default(8080),
      /** `~/` is the runner user's home (run_as's when set). */
      workspace_root: z.string().min(1).default("~/oqto"),
      /**
       * When serve runs as root: the unprivileged Linux user its one runner (and so every agent,
       * terminal and file operation) runs as. Serve refuses to start as root without it.
       */
      run_as: z
        .string()
        .regex(/^[a-z_][a-z0-9_-]{0,31}$/, "server.run_as must be a Linux user name")
        .optional(),
      /**
       * The address people open Oqto at, when it is not this server's own listening address
       * (a reverse proxy, a DNS name). Its origin is allowed for cookie-authenticated changes.
       */
      public_url: z.url({ protocol: /^https?$/ }).optional(),
      /** More origins allowed for cookie-authenticated unsafe requests and WebSocket upgrades. */
      allowed_origins: z.array(z.url()).default([]),
      /** `auto`: Secure cookies unless the request came over plain HTTP. */
      secure_cookies: z.enum(["auto", "always", "never"]).default("auto"),
      max_upload_mb: z.number().int().positive().max(100_000).default(100),
      /** How long a mux command may wait for the runner before failing with `timeout`. */
      command_timeout_s: z.number().positive().max(3600).default(45),
      /** One Linux user and runner per platform user (needs root; `oqto serve --multi-user`). */
      multi_user: z.boolean().default(false),
      /**
       * A file holding the bearer token Prometheus (and `oqto status`) scrape `GET /api/metrics` with,
       * besides an admin's own credentials; read when serve starts. Unset: admins only.
       */
      metrics_token_file: z.string().min(1).optional(),
    })
    .prefault({}),
  /** Multi-user mode: where the privileged helper puts accounts, runners and their logs. */
  multi_user: z
    .strictObject({
      /** The unprivileged Linux user the web server runs as; created (as a system user) if missing. */
      service_user: z
        .string()
        .regex(/^[a-z_][a-z0-9_-]{0,31}$/, "multi_user.service_user must be a Linux user name")
        .default("oqto"),
      /** serve's data dir when --data-dir is not given: the service user's. */
      data_dir: z.string().min(1).default("/var/lib/oqto"),
      home_base: z.string().min(1).default("/home"),
      runtime_dir: z.string().min(1).default("/run/oqto"),
      log_dir: z.string().min(1).default("/var/log/oqto"),
      /** A runner whose user has had no request and no open socket this long is stopped. */
      runner_idle_s: z
        .number()
        .positive()
        .max(30 * 86400)
        .default(1800),
    })
    .prefault({}),
  auth: z
    .strictObject({
      /** HS256 secret; generated into the data dir at first start when absent. */
      jwt_secret: z.string().min(32, "auth.jwt_secret must be at least 32 bytes").optional(),
      token_ttl_s: z
        .number()
        .int()
        .positive()
        .max(30 * 86400)
        .default(86400),
    })
    .prefault({}),
  runner: z
    .strictObject({
      /** Runner socket; default `<data dir>/run/runner.sock`. */
      socket: z.string().min(1).optional(),
      /** `serve` starts and supervises the runner; false: connect to one managed elsewhere (systemd, a bench). */
      supervise: z.boolean().default(true),
      idle_timeout_s: z.number().positive().default(300),
      replay_buffer_events: z.number().int().min(16).max(1_000_000).default(2048),
      replay_buffer_bytes: z
        .number()
        .int()
        .min(1024)
        .default(8 * 1024 * 1024),
      max_sessions: z.number().int().positive().max(1000).default(32),
      /**
       * Warm pi processes kept ready for new sessions, one per recently used workspace (each ~60 MB
       * PSS); 0 turns the pool off and every new session waits for pi's start (~1 s).
       */
      pool_size: z.number().int().min(0).max(64).default(2),
      /** A warm pi unused this long is stopped. */
      pool_idle_s: z.number().positive().default(600),
      /** Watchdog: no `agent_start` this long after an accepted prompt ends the turn. */
      start_timeout_s: z.number().positive().default(45),
      /** Watchdog: no pi output this long while generating/thinking ends the turn. */
      silence_timeout_s: z.number().positive().default(180),
      /** After an abort, pi is killed if the turn has not ended within this time. */
      abort_timeout_s: z.number().positive().default(10),
    })
    .prefault({}),
  pi: z
    .strictObject({
      /** Runtime that runs pi's cli.js: a path, or unset for `bun` on PATH, else this binary. */
      runtime: z.string().min(1).optional(),
      /** Path to pi's `dist/cli.js`; unset to use the installed copy. */
      cli: z.string().min(1).optional(),
      /** Extra arguments for every pi process (tests pass `--no-context-files`). */
      extra_args: z.array(z.string()).default([]),
      /** Flat session directory (`PI_CODING_AGENT_SESSION_DIR`); unset keeps pi's default. */
      session_dir: z.string().min(1).optional(),
    })
    .prefault({}),
  /** Admission and fairness across every user's sessions (CONFIGURATION.md `[admission]`). */
  admission: z
    .strictObject({
      /**
       * Sessions generating at once, all users together; more wait in a FIFO queue. 0 = unlimited;
       * unset = 15 × the machine's cores (`os.availableParallelism()`), from the measured cost of a
       * streaming session (BENCHMARKS.md "End-to-end streaming").
       */
      max_generating_sessions: z.number().int().min(0).max(100_000).optional(),
    })
    .prefault({}),
  /** The LLM gateway in serve (CONFIGURATION.md `[llm_gateway]`). */
  llm_gateway: z
    .strictObject({
      /**
       * Under load the gateway merges a provider's streamed text deltas that come within this many ms into
       * one record (each record costs pi CPU); 0 never merges. Text and order are unchanged.
       */
      merge_window_ms: z.number().int().min(0).max(1000).default(40),
      /** Merging is on while more answers stream at once than this; unset = the machine's cores. */
      merge_above_streams: z.number().int().min(0).max(100_000).optional(),
    })
    .prefault({}),
  /** An external hstry to store history in; absent: the runner starts the embedded `oqto hstry`. */
  hstry: z
    .strictObject({
      /** Unix socket of the external hstry service. */
      socket: z.string().min(1).optional(),
      /** `http://host:port` of an external hstry listening on TCP (plain gRPC, no TLS). */
      url: z.url({ protocol: /^http$/, error: "hstry.url must be http://host:port" }).optional(),
    })
    .refine((table) => !(table.socket && table.url), {
      error: "set either hstry.socket or hstry.url, not both",
    })
    .optional(),
  /**
   * An eavs LLM proxy (EAVS.md): with this table the gateway forwards to eavs with one virtual key per user
   * instead of to the admin's own providers.
   */
  eavs: z
    .strictObject({
      /** Where eavs listens, e.g. `http://127.0.0.1:41800`; serve reaches it (pi never does). */
      url: z.url({ protocol: /^https?$/, error: "eavs.url must be an http(s) URL" }),
      /** eavs' admin key: a literal, or `env:VAR` (resolved when serve starts). */
      master_key: z
        .string()
        .min(1, "eavs.master_key must not be empty")
        .refine((value) => value !== "env:", "eavs.master_key 'env:' names no variable")
        .default(`${ENV_REF_PREFIX}EAVS_MASTER_KEY`),
      /** Per admin call to eavs (key creation, provider list, quotas). */
      timeout_s: z.number().positive().max(300).default(10),
    })
    .optional(),
});
export type Config = z.infer<typeof ConfigSchema>;
