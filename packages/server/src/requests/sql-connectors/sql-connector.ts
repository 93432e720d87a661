import type { ConnectorInput, Identifiers, RequestStrategy, RequestType } from '@lethe/api';
import { sql, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import type { FoundRecord } from '../found-record.js';
import { checkedColumnTypes } from './catalog-check.js';
import type { ColumnTypeOf } from './column-types.js';
import { validateConnectorConfig } from './connector-config.js';
import { LinkingValues } from './linking-values.js';
import {
  anyOf,
  directReasons,
  identityReasons,
  identityValue,
  PROPAGATED_TAGS,
  reachReasons,
  type LinkingValuesOf,
  type MatchReason,
  type PropagatedTag,
} from './match-reasons.js';
import { openSqlDatabase } from './open-sql-database.js';
import { pagedRows, type Row } from './paged-rows.js';
import { formatPrimaryKey, toJsonSafe, valueText } from './record-values.js';
import { refusedDelete, SqlConnectorError } from './sql-connector-error.js';
import { gateErasure, type ErasureApproval, type ErasureCounts } from './erasure-approval.js';
import { connectorHmacKey, erasurePlans, maskRows, type TableErasurePlan } from './table-erasure.js';
import type { SqlDialectAdapter, UntypedDatabase } from './sql-dialect-adapter.js';
import {
  deletionOrder,
  linkingColumns,
  planTables,
  seedState,
  type RowState,
  type TablePlan,
} from './table-plan.js';

export { connectorConfigNotes, validateConnectorConfig, type ConfigProblem } from './connector-config.js';
export { SqlConnectorError } from './sql-connector-error.js';
export { checkConnectorSchema } from './schema-check.js';
export { ErasureApprovalNeeded, type ErasureApproval, type ErasureCounts } from './erasure-approval.js';

export interface SqlRightsRun {
  readonly type: RequestType;
  readonly strategy: RequestStrategy;
  /** Already normalised by the caller: email lower-cased and trimmed, phone E.164, address parts trimmed. */
  readonly identifiers: Identifiers;
  /** delete_pii: only personal columns of these data categories (or below them); absent: all. */
  readonly categories?: readonly string[] | undefined;
}

export interface SqlRightsOutcome {
  /** Distinct rows matched (all categories). */
  readonly rowsFound: number;
  /** delete: rows deleted. */
  readonly rowsDeleted: number;
  /** Rows whose personal columns were masked (delete_pii; delete in `erase: fields` tables). */
  readonly rowsNulled: number;
  /** An erasure run with `approval`: rows per table it changed, counted before changing them. */
  readonly erasureCounts?: ErasureCounts;
}

export interface SqlConnectorOptions {
  /** Most records per onRecords call, and rows per read. Default 500. */
  readonly batchSize?: number;
  /** Bound on each statement (PostgreSQL, MySQL/MariaDB) or on the wait for a lock (SQLite). Default 60 s. */
  readonly statementTimeoutMs?: number;
  /** The installation's masking key (a per-connector key is derived from it); needed by hmac masks. */
  readonly maskKey?: Uint8Array;
  /**
   * An erasure counts the rows it would change per table before reporting or changing any, and
   * throws `ErasureApprovalNeeded` (rolled back) where one is over the threshold and the approval.
   */
  readonly approval?: ErasureApproval;
}

/**
 * Source keys and links are followed this many rounds past the direct matches. Rows reached in
 * the last round are matched, but their own linking values are not followed any further.
 */
export const MAX_EXPANSION_ROUNDS = 10;
/**
 * `connected`: at most this many identifiers found in the person's own rows. More means a column
 * tagged as an identity holds other people's values; the run stops rather than erase them.
 */
export const MAX_FOUND_IDENTIFIERS = 1_000;
const DEFAULT_BATCH_SIZE = 500;
const DEFAULT_STATEMENT_TIMEOUT_MS = 60_000;
/** Result columns the connector adds; a DSAR's values leave them out. */
const ALIAS_PREFIX = '__lethe_';

/**
 * Runs one rights request against one database, in ONE transaction (read-only for a DSAR, a
 * repeatable-read snapshot everywhere): finds the rows the identifiers match directly, follows
 * source keys (and links, for `connected`) to a fixpoint, reports every matched row once with its
 * strongest category, then deletes the rows (`delete`) or sets their pii columns to NULL
 * (`delete_pii`), children before parents. Anything failing rolls the whole run back.
 *
 * Memory: one page of rows (`batchSize`) and the linking values of matched rows (the distinct
 * values of their source-key and link columns), never the matched rows themselves; rows are read
 * by keyset pages on the primary key, which must be unique and non-null. Records are handed to
 * `onRecords` in batches of at most `batchSize` while the transaction is open; an error thrown by
 * `onRecords` rolls back and is rethrown as is. Every other failure is a SqlConnectorError.
 *
 * A DSAR record's values are ALL the row's columns (the person's data is what a DSAR returns, not
 * only the tagged columns), JSON-safe: bytes as base64, unsafe integers as decimal strings,
 * timestamps with a zone as ISO 8601, dates and zone-less timestamps as stored.
 *
 * @example
 * const outcome = await runSqlConnector('crm', config, process.env[config.urlEnv]!,
 *   { type: 'dsar', strategy: 'exact', identifiers: { email: 'ada@example.com' } },
 *   async (records) => report.add(records));
 */
export async function runSqlConnector(
  name: string,
  config: ConnectorInput,
  url: string,
  run: SqlRightsRun,
  onRecords: (records: FoundRecord[]) => Promise<void>,
  options: SqlConnectorOptions = {},
): Promise<SqlRightsOutcome> {
  const problems = validateConnectorConfig(config);
  if (problems.length > 0) {
    const list = problems.map((problem) => `${problem.path}: ${problem.message}`).join('; ');
    throw new SqlConnectorError(`connector ${name} has an invalid config: ${list}`, false);
  }
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new RangeError('batchSize must be a positive integer');
  }
  const statementTimeoutMs = options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  const readOnly = run.type === 'dsar';

  const database = await openSqlDatabase(config.type, url, { readOnly, busyTimeoutMs: statementTimeoutMs });
  const progress = { doing: 'connecting', callerError: undefined as unknown };
  try {
    return await database.db.connection().execute(async (connection) => {
      progress.doing = 'starting the transaction';
      await database.adapter.begin(connection, readOnly);
      try {
        await database.adapter.limitStatementTime(connection, statementTimeoutMs);
        progress.doing = 'reading the catalog';
        const typeOf = await checkedColumnTypes(name, config, database.adapter, connection);
        const plans = planTables(config);
        const hmacKey = options.maskKey === undefined ? undefined : connectorHmacKey(options.maskKey, name);
        const outcome = await new RightsRun({
          name,
          plans,
          typeOf,
          erasure: erasurePlans(name, plans, run, typeOf, hmacKey),
          hmacKey,
          run,
          approval: options.approval,
          adapter: database.adapter,
          connection,
          batchSize,
          progress,
          onRecords,
        }).execute();
        progress.doing = 'committing';
        await sql`commit`.execute(connection);
        return outcome;
      } catch (error) {
        await sql`rollback`.execute(connection).catch(() => {});
        throw error;
      }
    });
  } catch (error) {
    if (error === progress.callerError) throw error;
    throw database.toError(error, progress.doing);
  } finally {
    await database.close();
  }
}

type LinkingRow = { readonly linking_value: unknown };

interface RunContext {
  readonly name: string;
  readonly plans: readonly TablePlan[];
  /** The catalog's type of each configured column: linking values are compared in the target's. */
  readonly typeOf: ColumnTypeOf;
  /** What the run does to each table's own rows, resolved against the catalog. */
  readonly erasure: ReadonlyMap<string, TableErasurePlan>;
  readonly hmacKey: Buffer | undefined;
  readonly run: SqlRightsRun;
  readonly approval: ErasureApproval | undefined;
  readonly adapter: SqlDialectAdapter;
  /** The single connection the transaction is open on. */
  readonly connection: Kysely<UntypedDatabase>;
  readonly batchSize: number;
  /** What the run is doing, for error messages; and the caller's own error, to rethrow as is. */
  readonly progress: { doing: string; callerError: unknown };
  readonly onRecords: (records: FoundRecord[]) => Promise<void>;
}

/** The reasons a table's rows are reached, and the predicates that select own and shared rows. */
interface Reached {
  readonly own: readonly MatchReason[];
  readonly shared: readonly MatchReason[];
  readonly ownPredicate: RawBuilder<SqlBool> | undefined;
  /** Shared and not own: a row both own and shared counts as own. */
  readonly sharedPredicate: RawBuilder<SqlBool> | undefined;
}

/** The state of one run inside its transaction. */
class RightsRun {
  /** Linking values of all reached rows so far, by `table\0column\0state`. */
  readonly #known = new Map<string, LinkingValues>();
  /** `connected`: the identifiers known so far (the request's, and those found in own rows), by tag. */
  readonly #identities = new Map<string, LinkingValues>();
  /** Only those found in own rows: the request's own are searched as direct matches. */
  readonly #discovered = new Map<string, LinkingValues>();
  readonly #pending: FoundRecord[] = [];
  #rowsFound = 0;
  #identityCount = 0;

  constructor(readonly context: RunContext) {
    const { identifiers } = context.run;
    const given: [PropagatedTag, string | undefined][] = [
      ['subject-id', identifiers.subject],
      ['email', identifiers.email],
      ['phone', identifiers.phone],
      ['custom-key', identifiers.customKey],
      ['custom-key-2', identifiers.customKey2],
      ['custom-key-3', identifiers.customKey3],
    ];
    for (const [tag, value] of given) {
      const normalised = identityValue(tag, value);
      if (normalised !== undefined) getOrCreate(this.#identities, tag).add(normalised);
    }
  }

  async execute(): Promise<SqlRightsOutcome> {
    const { plans, connection, progress, erasure, hmacKey, batchSize } = this.context;
    await this.#expand();
    const tables = deletionOrder(plans).map((plan) => ({
      plan,
      reached: this.#reached(plan, this.#valuesIn(this.#known), (tag) => this.#found(tag), true),
      erasure: erasure.get(plan.name) ?? { action: 'none', masks: [] },
    }));
    const { run, approval, name } = this.context;
    progress.doing = 'counting the rows to erase';
    const targets = tables.map((table) => ({ ...table, predicate: table.reached.ownPredicate }));
    const erasureCounts = await gateErasure(connection, name, run.type, approval, targets);
    let rowsDeleted = 0;
    let rowsNulled = 0;
    for (const { plan, reached, erasure: tableErasure } of tables) {
      const { action, masks } = tableErasure;
      if (reached.ownPredicate !== undefined) {
        await this.#report(plan, reached.own, reached.ownPredicate, action === 'keep' ? 'never' : undefined);
      }
      if (reached.sharedPredicate !== undefined) {
        await this.#report(plan, reached.shared, reached.sharedPredicate, 'shared');
      }
      const predicate = reached.ownPredicate;
      if (predicate === undefined) continue;
      if (action === 'delete') {
        progress.doing = `deleting from ${plan.name}`;
        const result = await sql`delete from ${sql.table(plan.name)} where ${predicate}`
          .execute(connection)
          .catch((error: unknown) => {
            throw refusedDelete(this.context.name, plan.name, error);
          });
        rowsDeleted += Number(result.numAffectedRows ?? 0n);
      } else if (action === 'mask' && masks.length > 0) {
        progress.doing = `masking personal columns of ${plan.name}`;
        rowsNulled += await maskRows(
          connection,
          this.context.adapter,
          plan,
          masks,
          predicate,
          hmacKey,
          batchSize,
        );
      }
    }
    await this.#flush(1);
    return {
      rowsFound: this.#rowsFound,
      rowsDeleted,
      rowsNulled,
      ...(erasureCounts ? { erasureCounts } : {}),
    };
  }

  /**
   * The reasons `plan`'s rows are reached: identifiers (the request's, and for `connected` those
   * found in own rows) seed own rows (shared in an `owner: shared` table); linking values reach
   * rows as the safe rule says (`reachReasons`).
   */
  #reached(
    plan: TablePlan,
    valuesOf: LinkingValuesOf,
    found: (tag: PropagatedTag) => LinkingValues | undefined,
    withRequest: boolean,
  ): Reached {
    const { plans, run, adapter, typeOf } = this.context;
    const seeds = [
      ...(withRequest ? directReasons(plan, run.identifiers, adapter, typeOf) : []),
      ...(run.strategy === 'connected' ? identityReasons(plan, found, adapter, typeOf) : []),
    ];
    const reach = reachReasons(plan, plans, valuesOf, adapter, typeOf);
    const own = seedState(plan.owner) === 'own' ? [...seeds, ...reach.own] : reach.own;
    const shared = seedState(plan.owner) === 'shared' ? [...seeds, ...reach.shared] : reach.shared;
    const ownPredicate = anyOf(own);
    const anyShared = anyOf(shared);
    const sharedPredicate =
      anyShared === undefined || ownPredicate === undefined
        ? anyShared
        : // `case`, not `not (...)`: an own predicate that is NULL for a row must not hide it.
          sql<boolean>`${anyShared} and (case when ${ownPredicate} then 1 else 0 end) = 0`;
    return { own, shared, ownPredicate, sharedPredicate };
  }

  /**
   * Collects the linking values of the seeded rows, then of the rows those values reach, and so
   * on; each round only queries with the values (and found identifiers) that were new in the
   * round before.
   */
  async #expand(): Promise<void> {
    const { plans } = this.context;
    let fresh = new Map<string, LinkingValues>();
    let freshIdentities = new Map<string, LinkingValues>();
    const none: LinkingValuesOf = () => undefined;
    for (let round = 0; round <= MAX_EXPANSION_ROUNDS; round++) {
      if (round > 0 && fresh.size === 0 && freshIdentities.size === 0) break;
      const previous = fresh;
      const previousIdentities = freshIdentities;
      fresh = new Map();
      freshIdentities = new Map();
      for (const plan of plans) {
        // Round 0 seeds with the request's identifiers; later rounds only query with what is new.
        const reached = this.#reached(
          plan,
          round === 0 ? none : this.#valuesIn(previous),
          (tag) => previousIdentities.get(tag),
          round === 0,
        );
        if (reached.ownPredicate !== undefined) {
          await this.#collect(plan, reached.ownPredicate, 'own', fresh);
          await this.#collectIdentities(plan, reached.ownPredicate, freshIdentities);
        }
        if (reached.sharedPredicate !== undefined) {
          await this.#collect(plan, reached.sharedPredicate, 'shared', fresh);
        }
      }
    }
  }

  /** Adds the linking values of `plan`'s rows matching `predicate` to the known ones; new ones also to `fresh`. */
  async #collect(
    plan: TablePlan,
    predicate: RawBuilder<unknown>,
    state: RowState,
    fresh: Map<string, LinkingValues>,
  ): Promise<void> {
    for (const column of linkingColumns(plan, state)) {
      const key = valuesKey(plan.name, column, state);
      for (const value of await this.#distinct(plan, column, predicate)) {
        if (getOrCreate(this.#known, key).add(value)) getOrCreate(fresh, key).add(value);
      }
    }
  }

  /** `connected`: the identifiers in `plan`'s own rows matching `predicate` join the search. */
  async #collectIdentities(
    plan: TablePlan,
    predicate: RawBuilder<unknown>,
    fresh: Map<string, LinkingValues>,
  ): Promise<void> {
    if (this.context.run.strategy !== 'connected') return;
    for (const tag of PROPAGATED_TAGS) {
      for (const column of plan.identifierColumns.get(tag) ?? []) {
        for (const raw of await this.#distinct(plan, column, predicate)) {
          const value = identityValue(tag, raw);
          if (value === undefined || !getOrCreate(this.#identities, tag).add(value)) continue;
          getOrCreate(this.#discovered, tag).add(value);
          getOrCreate(fresh, tag).add(value);
          if (++this.#identityCount > MAX_FOUND_IDENTIFIERS) {
            throw new SqlConnectorError(
              `connector ${this.context.name}: the person's own rows hold more than ${MAX_FOUND_IDENTIFIERS} ` +
                `identifiers (last: ${tag} in ${plan.name}.${column}); a column tagged as an identity is ` +
                `probably not the person's own, or a table reached should be owner: shared`,
              false,
            );
          }
        }
      }
    }
  }

  async #distinct(plan: TablePlan, column: string, predicate: RawBuilder<unknown>): Promise<unknown[]> {
    this.context.progress.doing = `reading ${plan.name}`;
    const ref = sql.ref(column);
    const { rows } = await sql<LinkingRow>`select distinct ${ref} as ${sql.id('linking_value')}
      from ${sql.table(plan.name)} where ${predicate} and ${ref} is not null`.execute(
      this.context.connection,
    );
    return rows.map((row) => row.linking_value);
  }

  #valuesIn(map: ReadonlyMap<string, LinkingValues>): LinkingValuesOf {
    return (table, column, state) => map.get(valuesKey(table, column, state));
  }

  #found(tag: PropagatedTag): LinkingValues | undefined {
    return this.#discovered.get(tag);
  }

  /** Reads `plan`'s matched rows page by page (keyset on the primary key) and reports them. */
  async #report(
    plan: TablePlan,
    reasons: readonly MatchReason[],
    predicate: RawBuilder<unknown>,
    kept: FoundRecord['kept'],
  ): Promise<void> {
    this.context.progress.doing = `reading ${plan.name}`;
    const keyRefs = plan.primaryKey.map((column) => sql.ref(column));
    const keyAlias = plan.primaryKey.map((_, index) => `${ALIAS_PREFIX}k${index}`);
    const valueColumns = [...new Set(reasons.flatMap((reason) => reason.column ?? []))];
    const valueAlias = new Map(valueColumns.map((column, index) => [column, `${ALIAS_PREFIX}v${index}`]));
    const selections: RawBuilder<unknown>[] = [
      ...(this.context.run.type === 'dsar' ? [sql`*`] : []),
      ...keyRefs.map((ref, index) => sql`${ref} as ${sql.id(keyAlias[index] as string)}`),
      ...valueColumns.map((column) => sql`${sql.ref(column)} as ${sql.id(valueAlias.get(column) as string)}`),
      ...reasons.map(
        (reason, index) =>
          sql`case when ${reason.predicate} then 1 else 0 end as ${sql.id(`${ALIAS_PREFIX}r${index}`)}`,
      ),
    ];
    const piiColumns = plan.piiColumns;
    const datasource = `${this.context.name}.${plan.name}`;
    const { connection, adapter, batchSize } = this.context;
    const select = { table: plan.name, selections, predicate, primaryKey: plan.primaryKey, keyAlias };
    for await (const rows of pagedRows(connection, adapter, select, batchSize)) {
      for (const row of rows) {
        const index = reasons.findIndex((_, i) => Number(row[`${ALIAS_PREFIX}r${i}`]) === 1);
        const reason = reasons[index === -1 ? 0 : index] as MatchReason;
        const key = Object.fromEntries(
          plan.primaryKey.map((column, i) => [column, row[keyAlias[i] as string]]),
        );
        this.#pending.push({
          datasource,
          pk: formatPrimaryKey(plan.primaryKey, key),
          matchCategory: reason.category,
          semantic: reason.semantic,
          semanticValue:
            reason.column === undefined
              ? (reason.value ?? '')
              : valueText(row[valueAlias.get(reason.column) as string]),
          piiColumns,
          ...(kept !== undefined ? { kept } : {}),
          ...(this.context.run.type === 'dsar' ? { values: dsarValues(row) } : {}),
        });
      }
      this.#rowsFound += rows.length;
      await this.#flush(batchSize);
    }
  }

  /** Hands pending records over in batches of `batchSize` while at least `atLeast` are pending. */
  async #flush(atLeast: number): Promise<void> {
    while (this.#pending.length >= atLeast && this.#pending.length > 0) {
      const batch = this.#pending.splice(0, this.context.batchSize);
      try {
        await this.context.onRecords(batch);
      } catch (error) {
        this.context.progress.callerError = error;
        throw error;
      }
    }
  }
}

function dsarValues(row: Row): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(row)
      .filter(([column]) => !column.startsWith(ALIAS_PREFIX))
      .map(([column, value]) => [column, toJsonSafe(value)]),
  );
}

function valuesKey(table: string, column: string, state: RowState): string {
  return `${table}\u0000${column}\u0000${state}`;
}

function getOrCreate(map: Map<string, LinkingValues>, key: string): LinkingValues {
  let values = map.get(key);
  if (values === undefined) {
    values = new LinkingValues();
    map.set(key, values);
  }
  return values;
}
