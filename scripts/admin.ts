/**
 * Admin CLI: workspaces, users, API keys, integrations and data-subject requests (export and
 * erase a contact) in D1.
 *
 *   npm run -s admin -- <command> [options] [--local | --remote]
 *
 * `--local` (the default) works on wrangler's local state in PERSIST_DIR (default
 * `.wrangler/state`); `--remote` on the deployed database. Results go to stdout (for
 * `create-key`, the key alone); everything else goes to stderr.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  type AdminDb,
  AdminError,
  createKey,
  createUser,
  createWorkspace,
  listKeys,
  listUsers,
  parseRole,
  revokeKey,
  setPassword,
  setRole,
  setUserDisabled,
} from "./admin/commands";
import { INTEGRATION_COMMANDS } from "./admin/integrations";
import { PRIVACY_COMMANDS } from "./admin/privacy";
import { applyMigrations, type D1Target, persistDir, wranglerDb } from "./lib/d1";

type Values = Record<string, string | boolean | undefined>;

interface Command {
  usage: string;
  options: Record<string, { type: "string" | "boolean" }>;
  required: string[];
  run(db: AdminDb, values: Values, target: D1Target): Promise<void>;
}

const str = (values: Values, name: string): string | undefined => {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
};
/** Only called for options listed in the command's `required`, which are checked first. */
const req = (values: Values, name: string): string => str(values, name) ?? "";

const passwordOptions = { password: { type: "string" }, "password-stdin": { type: "boolean" } } as const;

/** `--password-stdin` keeps the password out of shell history and the process list. */
function password(values: Values): string | undefined {
  if (values["password-stdin"]) {
    if (values.password !== undefined) throw new AdminError("give --password or --password-stdin, not both");
    return readFileSync(0, "utf8").replace(/\r?\n$/, "");
  }
  return str(values, "password");
}

function printTable(rows: Record<string, unknown>[], columns: string[]): void {
  if (rows.length === 0) {
    console.error("(none)");
    return;
  }
  const cells = rows.map((row) => columns.map((c) => (row[c] === null || row[c] === undefined ? "-" : String(row[c]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (parts: string[]) =>
    parts
      .map((p, i) => p.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  console.log(line(columns));
  for (const r of cells) console.log(line(r));
}

function printRows(rows: Record<string, unknown>[], columns: string[], json: boolean): void {
  if (json) console.log(JSON.stringify(rows, null, 2));
  else printTable(rows, columns);
}

const COMMANDS: Record<string, Command> = {
  migrate: {
    usage: "migrate",
    options: {},
    required: [],
    async run(_db, _values, target) {
      applyMigrations(target);
      console.error("Migrations applied.");
    },
  },
  "create-workspace": {
    usage: "create-workspace --slug <slug> --name <name>",
    options: { slug: { type: "string" }, name: { type: "string" } },
    required: ["slug", "name"],
    async run(db, v) {
      const { id } = await createWorkspace(db, { slug: req(v, "slug"), name: req(v, "name") });
      console.error(`Created workspace ${req(v, "slug")}.`);
      console.log(id);
    },
  },
  "create-user": {
    usage:
      "create-user --workspace <slug> --email <email> --name <name> --role <viewer|csm|admin> [--password <p> | --password-stdin]",
    options: {
      workspace: { type: "string" },
      email: { type: "string" },
      name: { type: "string" },
      role: { type: "string" },
      ...passwordOptions,
    },
    required: ["workspace", "email", "name", "role"],
    async run(db, v) {
      const role = parseRole(req(v, "role"));
      const pw = password(v);
      const user = await createUser(db, {
        workspace: req(v, "workspace"),
        email: req(v, "email"),
        name: req(v, "name"),
        role,
        password: pw,
      });
      console.error(`Created ${role} ${user.email}${pw === undefined ? " (no password: signs in with a key)" : ""}.`);
      console.log(user.id);
    },
  },
  "create-key": {
    usage:
      "create-key --workspace <slug> --role <viewer|csm|admin> [--user <email>] [--name <label>] [--expires-days N]",
    options: {
      workspace: { type: "string" },
      role: { type: "string" },
      user: { type: "string" },
      name: { type: "string" },
      "expires-days": { type: "string" },
    },
    required: ["workspace", "role"],
    async run(db, v) {
      const days = str(v, "expires-days");
      if (days !== undefined && !/^\d+$/.test(days)) throw new AdminError("--expires-days must be a whole number");
      const created = await createKey(db, {
        workspace: req(v, "workspace"),
        role: parseRole(req(v, "role")),
        user: str(v, "user"),
        name: str(v, "name"),
        expiresDays: days === undefined ? undefined : Number(days),
      });
      const owner = str(v, "user") ? `for ${str(v, "user")}` : "(workspace service key)";
      const expiry = created.expiresAt ? `, expires ${created.expiresAt}` : "";
      console.error(`Created ${created.role} key ${created.prefix} ${owner}, id ${created.id}${expiry}.`);
      console.error("It is shown only once: store it now.");
      console.log(created.key);
    },
  },
  "list-keys": {
    usage: "list-keys --workspace <slug> [--json]",
    options: { workspace: { type: "string" }, json: { type: "boolean" } },
    required: ["workspace"],
    async run(db, v) {
      const rows = await listKeys(db, { workspace: req(v, "workspace") });
      printRows(
        rows.map((r) => ({ ...r })),
        ["id", "prefix", "name", "role", "user", "created_at", "last_used_at", "expires_at", "revoked_at"],
        v.json === true,
      );
    },
  },
  "revoke-key": {
    usage: "revoke-key --workspace <slug> (--prefix <prefix> | --id <id>)",
    options: { workspace: { type: "string" }, prefix: { type: "string" }, id: { type: "string" } },
    required: ["workspace"],
    async run(db, v) {
      const revoked = await revokeKey(db, {
        workspace: req(v, "workspace"),
        prefix: str(v, "prefix"),
        id: str(v, "id"),
      });
      console.error(`Revoked key ${revoked.prefix} (${revoked.id}).`);
    },
  },
  "list-users": {
    usage: "list-users --workspace <slug> [--json]",
    options: { workspace: { type: "string" }, json: { type: "boolean" } },
    required: ["workspace"],
    async run(db, v) {
      const rows = await listUsers(db, { workspace: req(v, "workspace") });
      printRows(
        rows.map((r) => ({ ...r, has_password: r.has_password === 1 })),
        ["id", "email", "name", "role", "has_password", "disabled_at", "created_at"],
        v.json === true,
      );
    },
  },
  "set-password": {
    usage: "set-password --workspace <slug> --email <email> (--password <p> | --password-stdin)",
    options: { workspace: { type: "string" }, email: { type: "string" }, ...passwordOptions },
    required: ["workspace", "email"],
    async run(db, v) {
      const pw = password(v);
      if (pw === undefined) throw new AdminError("give --password or --password-stdin");
      await setPassword(db, { workspace: req(v, "workspace"), email: req(v, "email"), password: pw });
      console.error(`Password set for ${req(v, "email")}.`);
    },
  },
  "set-role": {
    usage: "set-role --workspace <slug> --email <email> --role <viewer|csm|admin>",
    options: { workspace: { type: "string" }, email: { type: "string" }, role: { type: "string" } },
    required: ["workspace", "email", "role"],
    async run(db, v) {
      const role = parseRole(req(v, "role"));
      await setRole(db, { workspace: req(v, "workspace"), email: req(v, "email"), role });
      console.error(`${req(v, "email")} is now ${role}.`);
    },
  },
  "disable-user": {
    usage: "disable-user --workspace <slug> --email <email>",
    options: { workspace: { type: "string" }, email: { type: "string" } },
    required: ["workspace", "email"],
    async run(db, v) {
      await setUserDisabled(db, { workspace: req(v, "workspace"), email: req(v, "email"), disabled: true });
      console.error(`Disabled ${req(v, "email")}: their sign-in, tokens and keys stop working now.`);
    },
  },
  "enable-user": {
    usage: "enable-user --workspace <slug> --email <email>",
    options: { workspace: { type: "string" }, email: { type: "string" } },
    required: ["workspace", "email"],
    async run(db, v) {
      await setUserDisabled(db, { workspace: req(v, "workspace"), email: req(v, "email"), disabled: false });
      console.error(`Enabled ${req(v, "email")}.`);
    },
  },
  ...INTEGRATION_COMMANDS,
  ...PRIVACY_COMMANDS,
};

function usage(): string {
  return [
    "usage: npm run -s admin -- <command> [options] [--local | --remote]",
    "",
    "commands:",
    ...Object.values(COMMANDS).map((c) => `  ${c.usage}`),
    "",
    `--local (default) uses local state in PERSIST_DIR (now ${persistDir()}); --remote the deployed D1.`,
  ].join("\n");
}

/** Wrangler's error output, with the fix spelled out for a database that was never migrated. */
function explainWranglerError(error: Error, target: D1Target): string {
  if (/no such table/.test(error.message)) {
    const where = target.remote ? "the deployed database" : `local state in ${persistDir()}`;
    const flag = target.remote ? " --remote" : "";
    return `the database has no schema yet (${where}): run \`npm run -s admin -- migrate${flag}\` first`;
  }
  return error.message;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    console.error(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`error: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  let values: Values;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: { ...command.options, local: { type: "boolean" }, remote: { type: "boolean" } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    console.error(`error: ${(error as Error).message}\nusage: npm run -s admin -- ${command.usage}`);
    return 2;
  }
  const missing = command.required.filter((option) => typeof values[option] !== "string" || values[option] === "");
  if (missing.length > 0) {
    console.error(
      `error: missing ${missing.map((m) => `--${m}`).join(", ")}\nusage: npm run -s admin -- ${command.usage}`,
    );
    return 2;
  }
  if (values.local && values.remote) {
    console.error("error: give --local or --remote, not both");
    return 2;
  }
  const target: D1Target = { remote: values.remote === true };
  try {
    await command.run(wranglerDb(target), values, target);
    return 0;
  } catch (error) {
    if (error instanceof AdminError) {
      console.error(`error: ${error.message}`);
      return 1;
    }
    console.error(`error: ${explainWranglerError(error as Error, target)}`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
