import type { RequestType } from '@lethe/api';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { SqlConnectorError } from './sql-connector-error.js';
import type { UntypedDatabase } from './sql-dialect-adapter.js';
import type { TableErasurePlan } from './table-erasure.js';
import type { TablePlan } from './table-plan.js';

/** Rows per table an erasure changes (deletes or masks), by table name. */
export type ErasureCounts = Readonly<Record<string, number>>;

/** When an erasure must wait for a DPO, and what a DPO already approved. */
export interface ErasureApproval {
  /** A table whose erasure would change more rows than this waits for approval; 0: never. */
  readonly threshold: number;
  /** Rows per table a DPO approved: a run may change up to these, never more. */
  readonly approved?: ErasureCounts | undefined;
}

/**
 * The erasure would change more rows of some table than the threshold allows and than a DPO
 * approved: the run rolled back before reporting or changing anything. `counts` is the whole
 * plan (every table the erasure changes), `held` the tables over the line.
 */
export class ErasureApprovalNeeded extends SqlConnectorError {
  constructor(
    connector: string,
    readonly counts: ErasureCounts,
    readonly held: readonly string[],
    readonly threshold: number,
  ) {
    super(
      `connector ${connector}: the erasure would change ${held
        .map((table) => `${counts[table] ?? 0} rows of ${table}`)
        .join(', ')} (more than ${threshold} per table); it waits for a DPO's approval, nothing was changed`,
      false,
    );
  }
}

/** A table the erasure changes and the predicate selecting the rows it changes. */
export interface ErasureTarget {
  readonly table: string;
  readonly predicate: RawBuilder<unknown>;
}

/**
 * With `approval`, an erasure counts the own rows it would change per table (deleted, or masked
 * where its table masks columns), in the run's transaction before reporting or changing any, and
 * throws `ErasureApprovalNeeded` where `heldTables` says so. A DSAR is never counted or held.
 */
export async function gateErasure(
  connection: Kysely<UntypedDatabase>,
  connector: string,
  type: RequestType,
  approval: ErasureApproval | undefined,
  tables: readonly {
    readonly plan: TablePlan;
    readonly predicate: RawBuilder<unknown> | undefined;
    readonly erasure: TableErasurePlan;
  }[],
): Promise<ErasureCounts | undefined> {
  if (type === 'dsar' || approval === undefined || approval.threshold <= 0) return undefined;
  const counts = await countErasure(
    connection,
    tables.flatMap(({ plan, predicate, erasure: { action, masks } }) =>
      predicate !== undefined && (action === 'delete' || (action === 'mask' && masks.length > 0))
        ? [{ table: plan.name, predicate }]
        : [],
    ),
  );
  const held = heldTables(counts, approval);
  if (held.length > 0) throw new ErasureApprovalNeeded(connector, counts, held, approval.threshold);
  return counts;
}

/** Counts, inside the run's transaction and before any change, the rows each target would change. */
export async function countErasure(
  connection: Kysely<UntypedDatabase>,
  targets: readonly ErasureTarget[],
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const { table, predicate } of targets) {
    const { rows } = await sql<{ rows: number | string | bigint }>`select count(*) as ${sql.id('rows')}
      from ${sql.table(table)} where ${predicate}`.execute(connection);
    counts[table] = Number(rows[0]?.rows ?? 0);
  }
  return counts;
}

/**
 * The tables an erasure may not change without (more) approval: over the threshold and over what
 * was approved for them. A table approved at 40 rows that now has 41 is held again; one that
 * shrank to 39 is not.
 */
export function heldTables(counts: ErasureCounts, approval: ErasureApproval | undefined): string[] {
  if (approval === undefined || approval.threshold <= 0) return [];
  return Object.entries(counts)
    .filter(([table, rows]) => rows > approval.threshold && rows > (approval.approved?.[table] ?? 0))
    .map(([table]) => table);
}
