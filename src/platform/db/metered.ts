/**
 * A D1 binding that counts what each statement cost (rows read and written, from D1's result
 * metadata) and, when asked, keeps the statements themselves: for benchmarks and query-plan
 * checks, never for production answers.
 */

/** What one tool call cost in D1. */
export interface D1Meter {
  statements: number;
  rows_read: number;
  rows_written: number;
  /** The statements with their parameters, in order, when recording was asked for. */
  sql?: { sql: string; params: unknown[] }[];
}

/** A fresh meter; `recordSql` keeps every statement's text and parameters too. */
export function newMeter(recordSql: boolean): D1Meter {
  return recordSql
    ? { statements: 0, rows_read: 0, rows_written: 0, sql: [] }
    : { statements: 0, rows_read: 0, rows_written: 0 };
}

function count(meter: D1Meter, meta: D1Meta | undefined): void {
  meter.rows_read += meta?.rows_read ?? 0;
  meter.rows_written += meta?.rows_written ?? 0;
}

class MeteredStatement {
  constructor(
    readonly inner: D1PreparedStatement,
    private readonly meter: D1Meter,
    private readonly sql: string,
    private readonly params: unknown[],
  ) {}

  bind(...values: unknown[]): MeteredStatement {
    return new MeteredStatement(this.inner.bind(...values), this.meter, this.sql, values);
  }

  /** Counts one execution (batches count each of their statements). */
  executed(): void {
    this.meter.statements += 1;
    this.meter.sql?.push({ sql: this.sql, params: this.params });
  }

  async all<T>(): Promise<D1Result<T>> {
    this.executed();
    const result = await this.inner.all<T>();
    count(this.meter, result.meta);
    return result;
  }

  async run<T>(): Promise<D1Result<T>> {
    this.executed();
    const result = await this.inner.run<T>();
    count(this.meter, result.meta);
    return result;
  }

  /** Through `all`, because `first` alone reports no metadata. */
  async first<T>(column?: string): Promise<T | null> {
    const { results } = await this.all<Record<string, unknown>>();
    const row = results[0];
    if (row === undefined) return null;
    return (column === undefined ? row : (row[column] ?? null)) as T | null;
  }

  /** Rows as arrays: counted as a statement; D1 gives no row counts for this form. */
  raw<T>(options?: { columnNames?: boolean }): Promise<T[]> {
    this.executed();
    return this.inner.raw<T>(options as { columnNames?: false });
  }
}

/** Wraps a D1 binding so every statement run through it is counted in `meter`. */
export function meteredD1(db: D1Database, meter: D1Meter): D1Database {
  const metered = {
    prepare: (sql: string) => new MeteredStatement(db.prepare(sql), meter, sql, []),
    async batch<T>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]> {
      const inner = statements.map((s) => {
        if (!(s instanceof MeteredStatement)) return s;
        s.executed();
        return s.inner;
      });
      const results = await db.batch<T>(inner);
      for (const result of results) count(meter, result.meta);
      return results;
    },
    exec: (sql: string) => {
      meter.statements += 1;
      return db.exec(sql);
    },
    withSession: (constraint?: string) => db.withSession(constraint),
    dump: () => db.dump(),
  };
  return metered as unknown as D1Database;
}
