import { z } from "zod";
import { CreateInviteRequest } from "../protocol/rest.ts";
import { createInvites, toInviteCode } from "../server/accounts/invites.ts";
import { openStore, type Store } from "../server/store/index.ts";
import { cliContext } from "./context.ts";
import { formatTable, formatTime } from "./table.ts";
import type { UserCommandIo } from "./user.ts";

export const INVITE_USAGE = `usage: oqto invite create [--uses N] [--expires DURATION] [--note TEXT] [--count N]
       oqto invite list
       oqto invite revoke ID
  (each takes [--config FILE] [--data-dir DIR])

Invite codes let people register (multi-user mode). create prints each new code on its own
line: they are stored only as hashes and cannot be shown again. DURATION is a number with
s, m, h or d (e.g. 7d); without --expires a code lasts until used up or revoked.`;

const processIo: Pick<UserCommandIo, "out" | "err"> = {
  out: (text) => console.log(text),
  err: (text) => console.error(text),
};

const UNIT_S = { s: 1, m: 60, h: 3600, d: 86400 } as const;

/** `7d` → 604800. */
export function parseDuration(text: string): number {
  const match = /^(\d+)([smhd])$/.exec(text.trim());
  if (!match) throw new Error(`'${text}' is not a duration like 30m, 12h or 7d`);
  return Number(match[1]) * UNIT_S[match[2] as keyof typeof UNIT_S];
}

function integerFlag(value: string | boolean | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new Error(`--${name} must be a whole number`);
  return n;
}

function create(
  store: Store,
  flags: Record<string, string | boolean | undefined>,
  io: typeof processIo,
): number {
  const settings = CreateInviteRequest.parse({
    max_uses: integerFlag(flags.uses, "uses"),
    expires_in_s: typeof flags.expires === "string" ? parseDuration(flags.expires) : undefined,
    note: flags.note,
    count: integerFlag(flags.count, "count"),
  });
  const created = createInvites(store, settings, null);
  store.audit.append({
    actor_id: null,
    actor_name: "oqto invite (CLI)",
    action: "admin.invite_create",
    target: created.map(({ record }) => record.prefix).join(","),
    ip: null,
    detail: { count: settings.count, max_uses: settings.max_uses },
  });
  for (const { code } of created) io.out(code);
  return 0;
}

function list(store: Store, io: typeof processIo): number {
  const invites = store.invites.list().map((record) => toInviteCode(record));
  if (invites.length === 0) {
    io.out("no invite codes");
    return 0;
  }
  const rows = [
    ["ID", "CODE", "STATE", "USES", "EXPIRES", "NOTE"],
    ...invites.map((i) => [
      i.id,
      `${i.prefix}-…`,
      i.state,
      `${i.uses}/${i.max_uses}`,
      formatTime(i.expires_at),
      i.note ?? "",
    ]),
  ];
  for (const line of formatTable(rows)) io.out(line);
  return 0;
}

/** `oqto invite …`: returns the process exit code (0 ok, 1 failed, 2 usage error). */
export async function runInviteCommand(argv: string[], io: typeof processIo = processIo): Promise<number> {
  const ctx = cliContext(argv, {
    uses: { type: "string" },
    expires: { type: "string" },
    note: { type: "string" },
    count: { type: "string" },
  });
  const [action, ...args] = ctx.positionals;
  if (ctx.flags.help) {
    io.out(INVITE_USAGE);
    return 0;
  }
  const usage = (message: string) => {
    io.err(`oqto invite: ${message}\n\n${INVITE_USAGE}`);
    return 2;
  };
  const createFlags = ["uses", "expires", "note", "count"].filter((flag) => ctx.flags[flag] !== undefined);
  if (action !== "create" && createFlags.length > 0) return usage(`--${createFlags[0]} is only for create`);
  const store = openStore(ctx.dataDir);
  try {
    if (action === "create" && args.length === 0) {
      if (!ctx.config.server.multi_user)
        io.err(
          "note: registration needs multi-user mode; these codes work once the server runs with --multi-user ([server] multi_user = true)",
        );
      return create(store, ctx.flags, io);
    }
    if (action === "list" && args.length === 0) return list(store, io);
    if (action === "revoke" && args.length === 1 && args[0]) {
      if (!store.invites.revoke(args[0])) {
        io.err(`oqto invite revoke: no active invite code with id '${args[0]}'`);
        return 1;
      }
      io.out(`revoked ${args[0]}`);
      return 0;
    }
    return usage("expected create, list or revoke ID");
  } catch (error) {
    const message =
      error instanceof z.ZodError
        ? error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")
        : (error as Error).message;
    io.err(`oqto invite ${action}: ${message}`);
    return 1;
  } finally {
    store.close();
  }
}
