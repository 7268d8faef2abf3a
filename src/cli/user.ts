import { z } from "zod";
import { Password, Role, Username } from "../protocol/rest.ts";
import { changeAccess, deleteUser, resetPassword } from "../server/accounts/user-admin.ts";
import { passwordWeakness } from "../server/auth/password-strength.ts";
import { hashPassword } from "../server/auth/passwords.ts";
import { openStore, type Store, type UserRecord } from "../server/store/index.ts";
import { cliContext } from "./context.ts";
import { formatTable, formatTime } from "./table.ts";

export const USER_USAGE = `usage: oqto user add NAME [--admin] --password-stdin
       oqto user list
       oqto user disable NAME | enable NAME
       oqto user passwd NAME --password-stdin
       oqto user role NAME admin|user
       oqto user delete NAME
  (each takes [--config FILE] [--data-dir DIR])

Manages platform users directly in the database (works while the server is stopped; a running
server closes a disabled or deleted user's connections within seconds). Passwords are read from
stdin (one line), never from the command line, where other users could read them in the process
list. The last active admin cannot be disabled, demoted or deleted.`;

/** Where the command reads the password and writes its output; tests substitute their own. */
export interface UserCommandIo {
  readStdin(): Promise<string>;
  out(text: string): void;
  err(text: string): void;
}

const processIo: UserCommandIo = {
  readStdin: () => Bun.stdin.text(),
  out: (text) => console.log(text),
  err: (text) => console.error(text),
};

/** The password is the first line of stdin; a second line would almost certainly be a mistake. */
function passwordFromStdin(input: string): string {
  const password = input.replace(/\r?\n$/, "");
  if (/[\r\n]/.test(password)) throw new Error("the password on stdin must be a single line");
  return password;
}

async function addUser(store: Store, name: string, admin: boolean, io: UserCommandIo): Promise<number> {
  const username = Username.safeParse(name);
  if (!username.success) {
    io.err(`oqto user add: invalid username '${name}': ${username.error.issues[0]?.message}`);
    return 1;
  }
  if (store.users.byUsername(username.data)) {
    io.err(`oqto user add: user '${username.data}' already exists`);
    return 1;
  }
  const password = Password.safeParse(passwordFromStdin(await io.readStdin()));
  if (!password.success) {
    io.err(`oqto user add: invalid password: ${password.error.issues[0]?.message}`);
    return 1;
  }
  const weakness = await passwordWeakness(password.data, [username.data]);
  if (weakness) {
    io.err(`oqto user add: ${weakness}`);
    return 1;
  }
  const created = store.users.create({
    username: username.data,
    passwordHash: await hashPassword(password.data),
    role: admin ? "admin" : "user",
  });
  if (!created) {
    io.err(`oqto user add: user '${username.data}' already exists`);
    return 1;
  }
  // The first admin exists now, so any printed setup token is moot.
  if (admin) store.setupTokens.clear();
  io.out(`created ${created.role} '${created.username}' (id ${created.id})`);
  return 0;
}

function listUsers(store: Store, io: UserCommandIo): number {
  const users: UserRecord[] = store.users.list();
  if (users.length === 0) {
    io.out("no users");
    return 0;
  }
  const rows = [
    ["USERNAME", "ROLE", "ACTIVE", "CREATED", "LAST LOGIN"],
    ...users.map((user) => [
      user.username,
      user.role,
      user.is_active ? "yes" : "no",
      formatTime(user.created_at),
      formatTime(user.last_login_at),
    ]),
  ];
  for (const line of formatTable(rows)) io.out(line);
  return 0;
}

/** What one subcommand needs beyond its name: the user it acts on, the extra word, the flags. */
interface Invocation {
  store: Store;
  user: UserRecord;
  arg: string | undefined;
  io: UserCommandIo;
}

/** Subcommands that act on an existing user: NAME, then at most one more word. */
const USER_ACTIONS: Record<
  string,
  { arity: 0 | 1; passwordStdin?: true; run: (call: Invocation) => Promise<string> }
> = {
  disable: {
    arity: 0,
    run: async ({ store, user }) => {
      changeAccess(store, user, { is_active: false });
      return `disabled '${user.username}' (signed out everywhere)`;
    },
  },
  enable: {
    arity: 0,
    run: async ({ store, user }) => {
      changeAccess(store, user, { is_active: true });
      return `enabled '${user.username}'`;
    },
  },
  delete: {
    arity: 0,
    run: async ({ store, user }) => {
      deleteUser(store, user);
      return `deleted '${user.username}'`;
    },
  },
  passwd: {
    arity: 0,
    passwordStdin: true,
    run: async ({ store, user, io }) => {
      const password = Password.parse(passwordFromStdin(await io.readStdin()));
      await resetPassword(store, user, password);
      return `changed the password of '${user.username}' (signed out everywhere)`;
    },
  },
  role: {
    arity: 1,
    run: async ({ store, user, arg }) => {
      const role = Role.safeParse(arg);
      if (!role.success) throw new Error(`the role must be 'admin' or 'user', not '${arg}'`);
      changeAccess(store, user, { role: role.data });
      return `'${user.username}' is now ${role.data === "admin" ? "an admin" : "a user"}`;
    },
  },
};

async function withStore<T>(dataDir: string, work: (store: Store) => Promise<T>): Promise<T> {
  const store = openStore(dataDir);
  try {
    return await work(store);
  } finally {
    store.close();
  }
}

/** `oqto user …`: returns the process exit code (0 ok, 1 failed, 2 usage error). */
export async function runUserCommand(argv: string[], io: UserCommandIo = processIo): Promise<number> {
  const ctx = cliContext(argv, { admin: { type: "boolean" }, "password-stdin": { type: "boolean" } });
  const [action, ...names] = ctx.positionals;
  if (ctx.flags.help) {
    io.out(USER_USAGE);
    return 0;
  }
  const usage = (message: string) => {
    io.err(`oqto user${action ? ` ${action}` : ""}: ${message}\n\n${USER_USAGE}`);
    return 2;
  };
  const adminFlag = ctx.flags.admin !== undefined;
  const passwordFlag = ctx.flags["password-stdin"] === true;
  if (action === "add") {
    if (names.length !== 1 || names[0] === undefined) return usage("expected exactly one username");
    if (!passwordFlag)
      return usage("--password-stdin is required (passwords are never taken from arguments)");
    const name = names[0];
    return withStore(ctx.dataDir, (store) => addUser(store, name, ctx.flags.admin === true, io)).catch(
      (error) => {
        io.err(`oqto user add: ${(error as Error).message}`);
        return 1;
      },
    );
  }
  if (action === "list") {
    if (names.length > 0 || adminFlag || ctx.flags["password-stdin"] !== undefined)
      return usage("takes no arguments or flags");
    return withStore(ctx.dataDir, async (store) => listUsers(store, io));
  }
  const spec = action === undefined ? undefined : USER_ACTIONS[action];
  if (!spec || action === undefined)
    return usage("expected add, list, disable, enable, passwd, role or delete");
  const [name, arg, ...extra] = names;
  if (name === undefined || extra.length > 0 || (spec.arity === 1) !== (arg !== undefined))
    return usage(spec.arity === 1 ? "expected NAME and one more word" : "expected exactly one username");
  if (adminFlag) return usage("--admin is only for add (use: oqto user role NAME admin)");
  if (passwordFlag !== (spec.passwordStdin === true))
    return usage(spec.passwordStdin ? "--password-stdin is required" : "takes no --password-stdin");
  return withStore(ctx.dataDir, async (store) => {
    const user = store.users.byUsername(name);
    if (!user) {
      io.err(`oqto user ${action}: no user '${name}'`);
      return 1;
    }
    try {
      io.out(await spec.run({ store, user, arg, io }));
      return 0;
    } catch (error) {
      const message =
        error instanceof z.ZodError ? (error.issues[0]?.message ?? error.message) : (error as Error).message;
      io.err(`oqto user ${action}: ${message}`);
      return 1;
    }
  });
}
