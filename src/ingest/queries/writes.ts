/**
 * The D1 statements of planned messages: multi-row upserts fed from one JSON array parameter
 * (a statement per table and column set, whatever the number of rows or workspaces), outbox
 * status updates, suppressions, contact flags, usage rollups, account rollup refreshes, and the
 * clearing of stored payloads that named an erased contact.
 * Column and table names come from this module's constants and the normalizers, never from a payload.
 */

import { jsonChunks } from "../../platform/db/json-chunks";
import { refreshAccountRollups } from "../../records/rollups";
import { type MessagePlan, outboxUpdates, type PlannedEmail, type PlannedRow, TABLES } from "../plan";
import { type ColumnChange, EMAIL_STATUS_RANK, type Merge, type UpsertTable } from "../records";

/** `refreshAccountRollups` takes at most 90 account ids. */
const ROLLUP_CHUNK = 90;

/** Every statement that writes the given plans, in dependency order; `now` (ISO) is the write's time. */
export function planStatements(db: D1Database, plans: MessagePlan[], now: string): D1PreparedStatement[] {
  const rows = plans.flatMap((plan) => plan.rows);
  const statements = [...upsertStatements(db, rows, now)];
  statements.push(...rollupStatements(db, plans));
  statements.push(
    ...emailStatements(
      db,
      plans.flatMap((plan) => plan.emails),
      now,
    ),
  );
  const rollupAccounts = new Map<string, Set<string>>();
  for (const row of rows) {
    if (row.table !== "contracts" || !row.rollupAccountId) continue;
    const ids = rollupAccounts.get(row.workspaceId) ?? new Set<string>();
    ids.add(row.rollupAccountId);
    rollupAccounts.set(row.workspaceId, ids);
  }
  for (const [workspaceId, ids] of rollupAccounts) {
    const list = [...ids];
    for (let start = 0; start < list.length; start += ROLLUP_CHUNK) {
      statements.push(refreshAccountRollups(db, workspaceId, list.slice(start, start + ROLLUP_CHUNK), now));
    }
  }
  const erasedPayloads = plans.flatMap((plan) => (plan.erasedPayloadOf ? [plan.erasedPayloadOf] : []));
  if (erasedPayloads.length > 0) {
    // An erased person's data is not kept, not even in the raw delivery that named them again.
    statements.push(
      db
        .prepare("UPDATE webhook_receipts SET payload = NULL WHERE id IN (SELECT value FROM json_each(?1))")
        .bind(JSON.stringify(erasedPayloads)),
    );
  }
  return statements;
}

/** The SQL expression of a column's new value on update, or null when an update leaves it. */
function assignment(table: UpsertTable, name: string, merge: Merge, guard: string | null): string | null {
  const stored = `${table}.${name}`;
  const incoming = `excluded.${name}`;
  const guarded = (value: string) => (guard ? `CASE WHEN ${guard} THEN ${value} ELSE ${stored} END` : value);
  switch (merge) {
    case "insert":
      return null;
    case "latest":
      return guarded(incoming);
    case "earliest":
      return `CASE WHEN ${stored} IS NULL OR ${incoming} < ${stored} THEN ${incoming} ELSE ${stored} END`;
    case "fill":
      return `coalesce(${stored}, ${incoming})`;
    case "first_name":
      // The stored name is the placeholder (its external id) or one word: the first name replaces it.
      return guarded(
        `CASE WHEN ${stored} = ${table}.external_id OR instr(${stored}, ' ') = 0 THEN ${incoming}
              ELSE ${incoming} || substr(${stored}, instr(${stored}, ' ')) END`,
      );
    case "last_name":
      return guarded(
        `CASE WHEN ${stored} = ${table}.external_id THEN ${incoming}
              WHEN instr(${stored}, ' ') = 0 THEN ${stored} || ' ' || ${incoming}
              ELSE substr(${stored}, 1, instr(${stored}, ' ') - 1) || ' ' || ${incoming} END`,
      );
  }
}

/**
 * The upsert of one table and column set. With a newer-than guard, a stored row is updated only
 * by a change at least as new as what it holds (`excluded.<guard> >= <table>.<guard>` or nothing
 * stored); columns merged regardless of order (earliest, fill) are updated even by older changes.
 * The table's stamped columns a change does not give take the write's time (`?2`) on insert, and
 * its touched column on every update; `usesNow` says whether the statement reads `?2`.
 */
function upsertSql(table: UpsertTable, columns: [string, Merge][]): { sql: string; usesNow: boolean } {
  const spec = TABLES[table];
  const guardColumn = spec.guard;
  const guard = guardColumn
    ? `(excluded.${guardColumn} >= ${table}.${guardColumn} OR ${table}.${guardColumn} IS NULL)`
    : null;
  const names = columns.map(([name]) => name);
  if (guardColumn === "source_updated_at") names.push("source_updated_at");
  const inserted = ["id", "external_id", ...names];
  const selected = inserted.map((name) => `json_extract(value, '$.${name}')`);
  // SQLite checks NOT NULL before it turns a conflicting insert into an update, so a change to a
  // stored row that leaves a required column out inserts the stored value (a new row always has it).
  for (const name of spec.required.filter((required) => !inserted.includes(required))) {
    inserted.push(name);
    selected.push(
      `(SELECT stored.${name} FROM ${table} AS stored
         WHERE stored.workspace_id = json_extract(value, '$.workspace_id') AND stored.external_id = json_extract(value, '$.external_id'))`,
    );
  }
  const stamped = (spec.stamped ?? []).filter((name) => !inserted.includes(name));
  for (const name of stamped) {
    inserted.push(name);
    selected.push("?2");
  }
  const orderFree = columns.some(([, merge]) => merge === "earliest" || merge === "fill");
  // Without order-free columns the whole update is guarded in WHERE; otherwise each column is.
  const perColumnGuard = orderFree ? guard : null;
  const sets = columns
    .map(([name, merge]) => {
      const value = assignment(table, name, merge, perColumnGuard);
      return value === null ? null : `${name} = ${value}`;
    })
    .filter((set): set is string => set !== null);
  if (guardColumn === "source_updated_at") {
    sets.push(
      `source_updated_at = ${perColumnGuard ? `CASE WHEN ${perColumnGuard} THEN excluded.source_updated_at ELSE ${table}.source_updated_at END` : "excluded.source_updated_at"}`,
    );
  }
  if (spec.touch) sets.push(`${spec.touch} = ?2`);
  const where = guard && !orderFree ? ` WHERE ${guard}` : "";
  const sql = `INSERT INTO ${table} (workspace_id, ${inserted.join(", ")})
    SELECT json_extract(value, '$.workspace_id'), ${selected.join(", ")}
      FROM json_each(?1) WHERE true
    ON CONFLICT (workspace_id, external_id) DO UPDATE SET ${sets.join(", ")}${where}`;
  return { sql, usesNow: stamped.length > 0 || Boolean(spec.touch) };
}

function upsertStatements(db: D1Database, rows: PlannedRow[], now: string): D1PreparedStatement[] {
  const groups = new Map<string, { table: UpsertTable; columns: [string, Merge][]; values: unknown[] }>();
  for (const row of rows) {
    const columns = Object.entries(row.columns)
      .map(([name, change]): [string, Merge] => [name, (change as ColumnChange).merge])
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const signature = `${row.table}|${columns.map(([name, merge]) => `${name}:${merge}`).join(",")}`;
    const group = groups.get(signature) ?? { table: row.table, columns, values: [] };
    const value: Record<string, unknown> = {
      workspace_id: row.workspaceId,
      id: row.id,
      external_id: row.externalId,
      source_updated_at: row.sourceUpdatedAt,
    };
    for (const [name, change] of Object.entries(row.columns)) value[name] = change.value;
    group.values.push(value);
    groups.set(signature, group);
  }
  return [...groups.values()].flatMap((group) => {
    const { sql, usesNow } = upsertSql(group.table, group.columns);
    // ?2 is bound only where the statement reads it (D1 refuses unused bindings).
    return jsonChunks(group.values).map((chunk) =>
      usesNow ? db.prepare(sql).bind(chunk, now) : db.prepare(sql).bind(chunk),
    );
  });
}

function rollupStatements(db: D1Database, plans: MessagePlan[]): D1PreparedStatement[] {
  const rollups = plans.flatMap((plan) => plan.rollups);
  const daily = rollups.filter((r) => r.feature === null);
  const statements: D1PreparedStatement[] = [];
  const rows = (list: typeof rollups) =>
    list.map((r) => ({
      workspace_id: r.workspaceId,
      account_id: r.accountId,
      day: r.day,
      feature: r.feature,
      events: r.events,
      active_users: r.activeUsers,
      sessions: r.sessions,
    }));
  const select = (names: string[]) => names.map((name) => `json_extract(value, '$.${name}')`).join(", ");
  for (const withSessions of [false, true]) {
    const part = daily.filter((r) => (r.sessions !== null) === withSessions);
    const names = [
      "workspace_id",
      "account_id",
      "day",
      "events",
      "active_users",
      ...(withSessions ? ["sessions"] : []),
    ];
    const sql = `INSERT INTO usage_daily (${names.join(", ")}) SELECT ${select(names)} FROM json_each(?1) WHERE true
      ON CONFLICT (workspace_id, account_id, day) DO UPDATE SET events = excluded.events, active_users = excluded.active_users${withSessions ? ", sessions = excluded.sessions" : ""}`;
    for (const chunk of jsonChunks(rows(part))) statements.push(db.prepare(sql).bind(chunk));
  }
  const names = ["workspace_id", "account_id", "day", "feature", "events", "active_users"];
  const featureSql = `INSERT INTO usage_feature_daily (${names.join(", ")}) SELECT ${select(names)} FROM json_each(?1) WHERE true
    ON CONFLICT (workspace_id, account_id, day, feature) DO UPDATE SET events = excluded.events, active_users = excluded.active_users`;
  for (const chunk of jsonChunks(rows(rollups.filter((r) => r.feature !== null)))) {
    statements.push(db.prepare(featureSql).bind(chunk));
  }
  return statements;
}

const RANK_SQL = (value: string) =>
  `CASE ${value} ${Object.entries(EMAIL_STATUS_RANK)
    .map(([status, rank]) => `WHEN '${status}' THEN ${rank}`)
    .join(" ")} ELSE 0 END`;

const CONTACT_FLAG = { bounce: "bounced", spam_report: "spam_reported", unsubscribe: "unsubscribed" } as const;

function emailStatements(db: D1Database, emails: PlannedEmail[], now: string): D1PreparedStatement[] {
  const statements: D1PreparedStatement[] = [];
  const firstOf = (column: string) =>
    `${column} = CASE WHEN j.${column} IS NOT NULL AND (outbox_messages.${column} IS NULL OR j.${column} < outbox_messages.${column}) THEN j.${column} ELSE outbox_messages.${column} END`;
  for (const chunk of jsonChunks(outboxUpdates(emails))) {
    statements.push(
      db
        .prepare(
          `UPDATE outbox_messages SET
             status = CASE WHEN ${RANK_SQL("j.status")} > ${RANK_SQL("outbox_messages.status")} THEN j.status ELSE outbox_messages.status END,
             ${firstOf("opened_at")}, ${firstOf("clicked_at")}
           FROM (SELECT json_extract(value, '$.workspace_id') AS workspace_id, json_extract(value, '$.id') AS id,
                        json_extract(value, '$.status') AS status, json_extract(value, '$.opened_at') AS opened_at,
                        json_extract(value, '$.clicked_at') AS clicked_at
                   FROM json_each(?1)) AS j
          WHERE outbox_messages.workspace_id = j.workspace_id AND outbox_messages.id = j.id`,
        )
        .bind(chunk),
    );
  }
  const suppressed = emails.filter((email) => email.suppression && email.email);
  for (const chunk of jsonChunks(
    suppressed.map((email) => ({ workspace_id: email.workspaceId, email: email.email, reason: email.suppression })),
  )) {
    statements.push(
      db
        .prepare(
          `INSERT INTO email_suppressions (workspace_id, email, reason, source, created_at)
           SELECT json_extract(value, '$.workspace_id'), json_extract(value, '$.email'), json_extract(value, '$.reason'), 'sendgrid', ?2
             FROM json_each(?1) WHERE true
           ON CONFLICT (workspace_id, email) DO NOTHING`,
        )
        .bind(chunk, now),
    );
  }
  for (const [reason, flag] of Object.entries(CONTACT_FLAG)) {
    const pairs = suppressed
      .filter((email) => email.suppression === reason)
      .map((email) => [email.workspaceId, email.email]);
    for (const chunk of jsonChunks(pairs)) {
      statements.push(
        db
          .prepare(
            `UPDATE contacts SET ${flag} = 1
              WHERE (workspace_id, email) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?1))
                AND ${flag} = 0`,
          )
          .bind(chunk),
      );
    }
  }
  return statements;
}
