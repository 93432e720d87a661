/**
 * Orders strings by UTF-16 code unit, like `Array.prototype.sort` without a comparator but usable
 * inside composite comparators; unlike `localeCompare`, the order does not depend on the locale.
 */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
