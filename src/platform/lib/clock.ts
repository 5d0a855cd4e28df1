/**
 * The one clock. Every read of the current time in the Worker, its jobs and agents, the scripts
 * and the tests goes through {@link clock}`.now()`, so that tests can pin it: the suite then
 * passes on any calendar date. Durations are measured with `performance.now()`, not with this.
 *
 * @module
 */

/** Milliseconds added to the system time; 0 unless pinned. */
let offsetMs = 0;

export const clock = {
  /** The current time. */
  now(): Date {
    // The one place that reads the system clock.
    return new Date(Date.now() + offsetMs);
  },
  /** Pins the clock so that it reads `at` now and runs on from there (tests and demos only). */
  pin(at: Date): void {
    if (Number.isNaN(at.getTime())) throw new Error("clock.pin needs a valid date");
    offsetMs = at.getTime() - Date.now();
  },
};
