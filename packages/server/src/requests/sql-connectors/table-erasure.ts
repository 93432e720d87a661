import type { RequestType } from '@lethe/api';
import { createHmac, randomBytes } from 'node:crypto';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import {
  erasedFor,
  resolveMask,
  tableErasure,
  type ResolvedMask,
  type TableErasure,
} from './column-masks.js';
import type { ColumnTypeOf } from './column-types.js';
import { valueText } from './record-values.js';
import { SqlConnectorError } from './sql-connector-error.js';
import { pagedRows } from './paged-rows.js';
import type { SqlDialectAdapter, UntypedDatabase } from './sql-dialect-adapter.js';
import type { TablePlan } from './table-plan.js';

/** One table's erasure in this run: delete its own rows, rewrite columns of them, or keep them. */
export interface TableErasurePlan {
  readonly action: TableErasure | 'none';
  /** `mask`: each erased column and its rewrite. */
  readonly masks: readonly { readonly column: string; readonly mask: ResolvedMask }[];
}

const NOTHING: TableErasurePlan = { action: 'none', masks: [] };

/**
 * What the run does to each table's own rows, resolved against the catalog before any row is
 * read: a mask that cannot fit its column (a NOT NULL column masked with null, a fixed value too
 * long, hmac on a number, a NOT NULL date without a mask) stops the run here, every such column
 * named, so that no erasure fails halfway.
 */
export function erasurePlans(
  name: string,
  plans: readonly TablePlan[],
  run: { readonly type: RequestType; readonly categories?: readonly string[] | undefined },
  typeOf: ColumnTypeOf,
  hmacKey: Buffer | undefined,
): Map<string, TableErasurePlan> {
  const result = new Map<string, TableErasurePlan>();
  const problems: string[] = [];
  for (const plan of plans) {
    if (run.type === 'dsar') {
      result.set(plan.name, plan.erase === 'never' ? { action: 'keep', masks: [] } : NOTHING);
      continue;
    }
    const action = tableErasure(run.type, plan.erase);
    if (action !== 'mask') {
      result.set(plan.name, { action, masks: [] });
      continue;
    }
    // Categories narrow a delete_pii only: a delete erases the whole person.
    const requested = run.type === 'delete_pii' ? run.categories : undefined;
    const masks: { column: string; mask: ResolvedMask }[] = [];
    for (const [column, rules] of plan.columns) {
      if (!erasedFor(rules, requested)) continue;
      const type = typeOf(plan.name, column);
      const mask = resolveMask(column, rules.mask, {
        type,
        nullable: type.nullable ?? true,
        maxLength: type.maxLength,
      });
      if ('problem' in mask) problems.push(`${plan.name}: ${mask.problem}`);
      else if (mask.kind === 'hmac' && hmacKey === undefined)
        problems.push(`${plan.name}: column '${column}' has an hmac mask, but this run has no key`);
      else masks.push({ column, mask });
    }
    result.set(plan.name, { action: 'mask', masks });
  }
  if (problems.length > 0) {
    throw new SqlConnectorError(
      `connector ${name}: ${problems.join('; ')}; nothing was read or changed`,
      false,
    );
  }
  return result;
}

/** The key of a connector's hmac masks: the installation's masking key, bound to the connector's name. */
export function connectorHmacKey(installationKey: Uint8Array, name: string): Buffer {
  return createHmac('sha256', installationKey).update(`lethe sql connector mask\u0000${name}`).digest();
}

const KEY_PREFIX = '__lethe_k';

/**
 * Rewrites the erased columns of `plan`'s rows matching `predicate`; returns how many rows. Masks
 * that are one value for all rows go in one statement. hmac and random give each row its own
 * value, computed here and written row by row by primary key in keyset pages: no function for an
 * HMAC is common to the three databases (PostgreSQL's needs pgcrypto, MySQL/MariaDB and SQLite
 * have none), and the key never leaves this process. Each row gets all its columns in one
 * statement, so a predicate on a rewritten column (an e-mail matched directly) still selects it.
 */
export async function maskRows(
  connection: Kysely<UntypedDatabase>,
  adapter: SqlDialectAdapter,
  plan: TablePlan,
  masks: TableErasurePlan['masks'],
  predicate: RawBuilder<unknown>,
  hmacKey: Buffer | undefined,
  batchSize: number,
): Promise<number> {
  if (masks.length === 0) return 0;
  const fixed = masks.flatMap(({ column, mask }) =>
    mask.kind === 'set' ? [sql`${sql.ref(column)} = ${mask.value}`] : [],
  );
  const perRow = masks.filter(({ mask }) => mask.kind !== 'set');
  const table = sql.table(plan.name);
  if (perRow.length === 0) {
    const result = await sql`update ${table} set ${sql.join(fixed)} where ${predicate}`.execute(connection);
    return Number(result.numAffectedRows ?? 0n);
  }
  const keyRefs = plan.primaryKey.map((column) => sql.ref(column));
  const keyAlias = plan.primaryKey.map((_, index) => `${KEY_PREFIX}${index}`);
  const selections = [
    ...keyRefs.map((ref, index) => sql`${ref} as ${sql.id(keyAlias[index] as string)}`),
    ...perRow.map(({ column }) => sql.ref(column)),
  ];
  let changed = 0;
  const select = { table: plan.name, selections, predicate, primaryKey: plan.primaryKey, keyAlias };
  for await (const rows of pagedRows(connection, adapter, select, batchSize)) {
    for (const row of rows) {
      const assignments = [
        ...fixed,
        ...perRow.map(
          ({ column, mask }) => sql`${sql.ref(column)} = ${rowValue(mask, row[column], hmacKey)}`,
        ),
      ];
      const match = sql.join(
        keyRefs.map((ref, index) => sql`${ref} = ${row[keyAlias[index] as string]}`),
        sql` and `,
      );
      const result = await sql`update ${table} set ${sql.join(assignments)} where ${match}`.execute(
        connection,
      );
      changed += Number(result.numAffectedRows ?? 0n);
    }
  }
  return changed;
}

/** hmac: the hex digest of the value's text (NULL stays NULL); random: hex from 16+ random bytes. */
function rowValue(mask: ResolvedMask, value: unknown, hmacKey: Buffer | undefined): string | null {
  if (mask.kind === 'random')
    return randomBytes(Math.ceil(mask.length / 2))
      .toString('hex')
      .slice(0, mask.length);
  if (mask.kind !== 'hmac' || hmacKey === undefined) throw new Error('not a per-row mask');
  if (value === null || value === undefined) return null;
  return createHmac('sha256', hmacKey).update(valueText(value)).digest('hex').slice(0, mask.length);
}
