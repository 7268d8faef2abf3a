import { Password, Username } from "../protocol/rest.ts";
import { passwordWeakness } from "../server/auth/password-strength.ts";
import { hashPassword } from "../server/auth/passwords.ts";
import { openStore, type Store, type UserRecord } from "../server/store/index.ts";
import { cliContext } from "./context.ts";

export const USER_USAGE = `usage: oqto user add NAME [--admin] --password-stdin [--config FILE] [--data-dir DIR]
       oqto user list [--config FILE] [--data-dir DIR]

Manages platform users directly in the database (works while the server is stopped).
The password is read from stdin (one line), never from the command line, where other
users could read it in the process list.`;

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
  const weakness = passwordWeakness(password.data, [username.data]);
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

function formatTime(ms: number | null): string {
  return ms === null ? "-" : new Date(ms).toISOString();
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
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  for (const row of rows) {
    io.out(
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join("  ")
        .trimEnd(),
    );
  }
  return 0;
}

/** `oqto user …`: returns the process exit code (0 ok, 1 failed, 2 usage error). */
export async function runUserCommand(argv: string[], io: UserCommandIo = processIo): Promise<number> {
  const ctx = cliContext(argv, { admin: { type: "boolean" }, "password-stdin": { type: "boolean" } });
  const [action, ...names] = ctx.positionals;
  if (ctx.flags.help) {
    io.out(USER_USAGE);
    return 0;
  }
  if (action === "add") {
    if (names.length !== 1 || names[0] === undefined) {
      io.err(`oqto user add: expected exactly one username\n\n${USER_USAGE}`);
      return 2;
    }
    if (ctx.flags["password-stdin"] !== true) {
      io.err("oqto user add: --password-stdin is required (passwords are never taken from arguments)");
      return 2;
    }
    const store = openStore(ctx.dataDir);
    try {
      return await addUser(store, names[0], ctx.flags.admin === true, io);
    } catch (error) {
      io.err(`oqto user add: ${(error as Error).message}`);
      return 1;
    } finally {
      store.close();
    }
  }
  if (action === "list" && names.length === 0) {
    if (ctx.flags.admin !== undefined || ctx.flags["password-stdin"] !== undefined) {
      io.err(`oqto user list: takes no --admin or --password-stdin\n\n${USER_USAGE}`);
      return 2;
    }
    const store = openStore(ctx.dataDir);
    try {
      return listUsers(store, io);
    } finally {
      store.close();
    }
  }
  io.err(`oqto user: expected 'add NAME' or 'list'\n\n${USER_USAGE}`);
  return 2;
}
