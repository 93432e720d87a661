import { sql, type Kysely } from 'kysely';
import type { ConsentStateRow } from '../consent/consent-tables.js';
import type { Database } from '../store/schema.js';
import type { ErasureRow, FieldExpiryRow, SubjectExpiryRow, UsageRow } from './retention-tables.js';

/** Everything retention and consent keep about one subject, as the subject view reads it. */
export interface SubjectRows {
  readonly expiry: SubjectExpiryRow | undefined;
  /** By field. */
  readonly fieldRows: FieldExpiryRow[];
  /** By field, then policy. */
  readonly usages: UsageRow[];
  /** By purpose. */
  readonly consent: ConsentStateRow[];
  /** Oldest first. */
  readonly erasures: ErasureRow[];
}

/** One row of the union: which table (`kind`), up to five texts and five numbers. */
interface UnionRow {
  kind: number;
  a: string | null;
  b: string | null;
  c: string | null;
  d: string | null;
  e: string | null;
  n1: number | null;
  n2: number | null;
  n3: number | null;
  n4: number | null;
  n5: number | null;
}

const SUBJECT_EXPIRY = 0;
const FIELD_EXPIRY = 1;
const USAGE = 2;
const CONSENT = 3;
const ERASURE = 4;

/**
 * The subject's rows of five tables in one statement (`union all`, one round trip, one statement
 * to prepare) instead of five queries: the five lookups were most of a subject read's database
 * time and of its Kysely overhead. Plain SQL that SQLite and PostgreSQL both run; the typed nulls
 * let PostgreSQL resolve each column's type across the branches. `order by kind, a, b, n1` gives
 * each table the order its own query had: field expiries by field, usages by (field, policy),
 * consent states by purpose, erasures (whose `a` and `b` are null) by time.
 */
export async function readSubjectRows(db: Kysely<Database>, subject: string): Promise<SubjectRows> {
  const text = sql`cast(null as text)`;
  const number = sql`cast(null as bigint)`;
  const { rows } = await sql<UnionRow>`
    select ${sql.lit(SUBJECT_EXPIRY)} as kind, field as a, policy as b, system as c, ${text} as d,
      ${text} as e, expires_at as n1, ${number} as n2, ${number} as n3, ${number} as n4,
      ${number} as n5
      from subject_expiries where subject = ${subject}
    union all
    select ${sql.lit(FIELD_EXPIRY)}, field, policy, system, expire_reason, expire_by,
      expires_at, last_use_at, erased_at, reappeared_at, expire_now_at
      from field_expiries where subject = ${subject}
    union all
    select ${sql.lit(USAGE)}, field, policy, last_system, ${text}, ${text},
      first_use_at, last_use_at, use_count, last_consented_use_at, ${number}
      from usages where subject = ${subject}
    union all
    select ${sql.lit(CONSENT)}, purpose, ${text}, last_event_id, ${text}, ${text},
      granted_at, withdrawn_at, changed_at, ${number}, ${number}
      from consent_states where subject = ${subject}
    union all
    select ${sql.lit(ERASURE)}, ${text}, ${text}, field, system, recorded_by,
      erased_at, recorded_at, ${number}, ${number}, ${number}
      from erasures where subject = ${subject}
    order by kind, a, b, n1`.execute(db);
  let expiry: SubjectExpiryRow | undefined;
  const result = { fieldRows: [] as FieldExpiryRow[], usages: [] as UsageRow[] };
  const consent: ConsentStateRow[] = [];
  const erasures: ErasureRow[] = [];
  for (const row of rows) {
    const a = row.a as string;
    const b = row.b as string;
    const c = row.c as string;
    switch (row.kind) {
      case SUBJECT_EXPIRY:
        expiry = { subject, expires_at: row.n1 as number, field: a, policy: b, system: c };
        break;
      case FIELD_EXPIRY:
        result.fieldRows.push({
          subject,
          field: a,
          expires_at: row.n1 as number,
          policy: b,
          system: c,
          last_use_at: row.n2 as number,
          erased_at: row.n3,
          reappeared_at: row.n4,
          expire_now_at: row.n5,
          expire_reason: row.d,
          expire_by: row.e,
        });
        break;
      case USAGE:
        result.usages.push({
          subject,
          field: a,
          policy: b,
          first_use_at: row.n1 as number,
          last_use_at: row.n2 as number,
          use_count: row.n3 as number,
          last_system: c,
          last_consented_use_at: row.n4,
        });
        break;
      case CONSENT:
        consent.push({
          subject,
          purpose: a,
          granted_at: row.n1,
          withdrawn_at: row.n2,
          changed_at: row.n3 as number,
          last_event_id: c,
        });
        break;
      case ERASURE:
        erasures.push({
          subject,
          field: c,
          system: row.d as string,
          erased_at: row.n1 as number,
          recorded_at: row.n2 as number,
          recorded_by: row.e as string,
        });
        break;
    }
  }
  return { expiry, ...result, consent, erasures };
}
