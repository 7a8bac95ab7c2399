/* For tests and the simulator only: a value a test reads by index (a vector
 * from a JSON file, an event it expects, a file it set up) is checked, not
 * asserted with `!`, so that a missing one fails with what was missing
 * instead of a TypeError somewhere after it (noUncheckedIndexedAccess). */

/** `v`, or an Error naming `what` when it is undefined. */
export function must<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`missing: ${what}`);
  return v;
}
