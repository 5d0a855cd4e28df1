/**
 * Numbered bind parameters for SQL assembled from optional clauses: each value gets the next
 * `?N` once, and only values that a clause uses are bound (D1 refuses unused bindings and
 * allows at most 100 per statement).
 */
export class SqlParams {
  readonly values: (string | number)[] = [];

  /** Adds a value and returns its placeholder, e.g. `?3`. */
  add(value: string | number): string {
    if (this.values.length >= 100) throw new Error("a D1 statement binds at most 100 parameters");
    this.values.push(value);
    return `?${this.values.length}`;
  }
}
