/**
 * The store a command means to open does not exist yet: no database file in the data directory, or
 * a database that holds no Lethe schema. Only `lethe serve` creates a store; every other command
 * refuses, so that a mistyped `--data-dir` or `DATABASE_URL` is not answered from a new, empty one.
 */
export class StoreNotFoundError extends Error {
  constructor(where: string) {
    super(
      `no Lethe store in ${where}; check --data-dir (LETHE_DATA_DIR) or DATABASE_URL, ` +
        'or run `lethe serve` once to create the store',
    );
  }
}
