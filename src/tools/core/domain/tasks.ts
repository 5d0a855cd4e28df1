/** The facts of a task that decide whether it is overdue. */
export interface TaskFacts {
  status: string;
  due_date: string | null;
}

/** The day (YYYY-MM-DD) an instant falls on in a time zone; its UTC day when the zone is unknown to the runtime. */
export function dayInTimeZone(now: Date, timezone: string): string {
  try {
    return new Intl.DateTimeFormat("en-CA", {
      timeZone: timezone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    }).format(now);
  } catch {
    return now.toISOString().slice(0, 10);
  }
}

/** The task with `overdue`: open and due before `today`. */
export function withOverdue<T extends TaskFacts>(row: T, today: string): T & { overdue: boolean } {
  return { ...row, overdue: row.status === "open" && row.due_date !== null && row.due_date < today };
}
