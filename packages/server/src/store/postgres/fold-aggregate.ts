import { isConsentedUse } from '../../consent/consent.js';
import { useKeepsUntil } from '../../retention/expiry.js';
import type { ConsentLookup, FoldedEvent } from '../../retention/usage-batch.js';

/**
 * The PostgreSQL fold's aggregation: the same rule as `aggregateBatch` (usage-batch.ts, which a
 * property test holds it to), but with every name interned to an integer for the fold, so that
 * a key is one number (no string built per use) and each table comes out as columns, ready to
 * be passed to `unnest` without building an object per row. `aggregateBatch` spent 10–30 µs per
 * event on folds of 20,000–100,000 events (string keys, objects, sorting); this spends about a
 * tenth of that.
 */
export interface FoldTables {
  readonly usages: {
    subject: string[];
    field: string[];
    policy: string[];
    firstUseAt: number[];
    lastUseAt: number[];
    count: number[];
    lastSystem: string[];
    lastConsentedUseAt: (number | null)[];
  };
  readonly violations: {
    subject: string[];
    policy: string[];
    system: string[];
    purpose: string[];
    firstAt: number[];
    lastAt: number[];
    count: number[];
  };
  readonly fields: {
    subject: string[];
    field: string[];
    expiresAt: number[];
    policy: string[];
    system: string[];
    lastUseAt: number[];
  };
  readonly subjects: {
    subject: string[];
    expiresAt: number[];
    field: string[];
    policy: string[];
    system: string[];
  };
  /** Sorted by (system, field, policy): folds of different partitions lock these rows in one order. */
  readonly links: {
    system: string[];
    field: string[];
    policy: string[];
    firstUseAt: number[];
    lastUseAt: number[];
    count: number[];
  };
}

/** Row of a key: a dense array when the key space is small enough (the common case), else a Map. */
class KeyIndex {
  private static readonly DENSE_LIMIT = 1 << 22;
  private readonly dense: Int32Array | undefined;
  private readonly map: Map<number, number> | undefined;

  constructor(space: number) {
    if (space <= KeyIndex.DENSE_LIMIT) this.dense = new Int32Array(space).fill(-1);
    else this.map = new Map();
  }

  get(key: number): number {
    return this.dense ? (this.dense[key] as number) : (this.map?.get(key) ?? -1);
  }

  set(key: number, row: number): void {
    if (this.dense) this.dense[key] = row;
    else this.map?.set(key, row);
  }
}

class Names {
  private readonly ids = new Map<string, number>();
  readonly names: string[] = [];

  id(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.ids.set(name, id);
      this.names.push(name);
    }
    return id;
  }
}

export function aggregateFold(events: readonly FoldedEvent[], consentOf: ConsentLookup): FoldTables {
  const subjects = new Names();
  const fields = new Names();
  const policies = new Names();
  const systems = new Names();
  // First pass: intern, so that the key multipliers (how many fields, policies, systems) are known.
  const eventIds = new Int32Array(events.length * 3);
  const fieldIds: number[] = [];
  events.forEach((event, index) => {
    eventIds[index * 3] = subjects.id(event.subject);
    eventIds[index * 3 + 1] = systems.id(event.system);
    eventIds[index * 3 + 2] = policies.id(event.policy);
    for (const field of event.fields) fieldIds.push(fields.id(field));
  });
  const F = fields.names.length;
  const P = policies.names.length;
  const Y = systems.names.length;

  const S = subjects.names.length;
  const usage = new KeyIndex(S * F * P);
  const u = {
    s: [] as number[],
    f: [] as number[],
    p: [] as number[],
    first: [] as number[],
    last: [] as number[],
  };
  const uCount: number[] = [];
  const uSystem: number[] = [];
  const uConsented: (number | null)[] = [];
  const violation = new KeyIndex(S * P * Y);
  const v = { s: [] as number[], p: [] as number[], y: [] as number[], purpose: [] as string[] };
  const vFirst: number[] = [];
  const vLast: number[] = [];
  const vCount: number[] = [];
  const field = new KeyIndex(S * F);
  const fl = {
    s: [] as number[],
    f: [] as number[],
    expires: [] as number[],
    p: [] as number[],
    y: [] as number[],
  };
  const flLast: number[] = [];
  const subjectExpires = new Float64Array(subjects.names.length).fill(-Infinity);
  const subjectOf = new Int32Array(subjects.names.length * 3);
  const link = new KeyIndex(Y * F * P);
  const l = {
    y: [] as number[],
    f: [] as number[],
    p: [] as number[],
    first: [] as number[],
    last: [] as number[],
  };
  const lCount: number[] = [];

  let nextField = 0;
  for (let index = 0; index < events.length; index += 1) {
    const event = events[index] as FoldedEvent;
    const s = eventIds[index * 3] as number;
    const y = eventIds[index * 3 + 1] as number;
    const p = eventIds[index * 3 + 2] as number;
    const at = event.at;
    const purpose = event.consentPurpose;
    const window = purpose === undefined ? undefined : consentOf(event.subject, purpose);
    const consented = window === undefined || isConsentedUse(window, at);
    const keepsUntil = useKeepsUntil(at, event.keepsUntil, window);
    if (purpose !== undefined && !consented) {
      const key = (s * P + p) * Y + y;
      const row = violation.get(key);
      if (row < 0) {
        violation.set(key, v.s.length);
        v.s.push(s);
        v.p.push(p);
        v.y.push(y);
        v.purpose.push(purpose);
        vFirst.push(at);
        vLast.push(at);
        vCount.push(1);
      } else {
        if (at < (vFirst[row] as number)) vFirst[row] = at;
        if (at > (vLast[row] as number)) vLast[row] = at;
        vCount[row] = (vCount[row] as number) + 1;
      }
    }
    const consentedUseAt = purpose !== undefined && consented ? at : null;
    for (let n = 0; n < event.fields.length; n += 1) {
      const f = fieldIds[nextField++] as number;

      const linkKey = (y * F + f) * P + p;
      const linkRow = link.get(linkKey);
      if (linkRow < 0) {
        link.set(linkKey, l.y.length);
        l.y.push(y);
        l.f.push(f);
        l.p.push(p);
        l.first.push(at);
        l.last.push(at);
        lCount.push(1);
      } else {
        if (at < (l.first[linkRow] as number)) l.first[linkRow] = at;
        if (at > (l.last[linkRow] as number)) l.last[linkRow] = at;
        lCount[linkRow] = (lCount[linkRow] as number) + 1;
      }

      const usageKey = (s * F + f) * P + p;
      const usageRow = usage.get(usageKey);
      if (usageRow < 0) {
        usage.set(usageKey, u.s.length);
        u.s.push(s);
        u.f.push(f);
        u.p.push(p);
        u.first.push(at);
        u.last.push(at);
        uCount.push(1);
        uSystem.push(y);
        uConsented.push(consentedUseAt);
      } else {
        uCount[usageRow] = (uCount[usageRow] as number) + 1;
        if (consentedUseAt !== null) {
          uConsented[usageRow] = Math.max(uConsented[usageRow] ?? -Infinity, consentedUseAt);
        }
        if (at < (u.first[usageRow] as number)) u.first[usageRow] = at;
        if (at >= (u.last[usageRow] as number)) {
          u.last[usageRow] = at;
          uSystem[usageRow] = y;
        }
      }

      const fieldKey = s * F + f;
      const fieldRow = field.get(fieldKey);
      if (fieldRow < 0) {
        field.set(fieldKey, fl.s.length);
        fl.s.push(s);
        fl.f.push(f);
        fl.expires.push(keepsUntil);
        fl.p.push(p);
        fl.y.push(y);
        flLast.push(at);
      } else {
        if (at > (flLast[fieldRow] as number)) flLast[fieldRow] = at;
        if (keepsUntil > (fl.expires[fieldRow] as number)) {
          fl.expires[fieldRow] = keepsUntil;
          fl.p[fieldRow] = p;
          fl.y[fieldRow] = y;
        }
      }

      if (keepsUntil > (subjectExpires[s] as number)) {
        subjectExpires[s] = keepsUntil;
        subjectOf[s * 3] = f;
        subjectOf[s * 3 + 1] = p;
        subjectOf[s * 3 + 2] = y;
      }
    }
  }

  const name = (table: Names) => (id: number) => table.names[id] as string;
  const subjectName = name(subjects);
  const fieldName = name(fields);
  const policyName = name(policies);
  const systemName = name(systems);
  const touched = subjects.names.flatMap((_subject, s) => (subjectExpires[s] === -Infinity ? [] : [s]));
  const linkOrder = l.y
    .map((y, row) => ({
      row,
      key: `${systemName(y)}\u0000${fieldName(l.f[row] as number)}\u0000${policyName(l.p[row] as number)}`,
    }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ row }) => row);
  const pick = <T>(values: readonly T[]) => linkOrder.map((row) => values[row] as T);
  return {
    usages: {
      subject: u.s.map(subjectName),
      field: u.f.map(fieldName),
      policy: u.p.map(policyName),
      firstUseAt: u.first,
      lastUseAt: u.last,
      count: uCount,
      lastSystem: uSystem.map(systemName),
      lastConsentedUseAt: uConsented,
    },
    violations: {
      subject: v.s.map(subjectName),
      policy: v.p.map(policyName),
      system: v.y.map(systemName),
      purpose: v.purpose,
      firstAt: vFirst,
      lastAt: vLast,
      count: vCount,
    },
    fields: {
      subject: fl.s.map(subjectName),
      field: fl.f.map(fieldName),
      expiresAt: fl.expires,
      policy: fl.p.map(policyName),
      system: fl.y.map(systemName),
      lastUseAt: flLast,
    },
    subjects: {
      subject: touched.map(subjectName),
      expiresAt: touched.map((s) => subjectExpires[s] as number),
      field: touched.map((s) => fieldName(subjectOf[s * 3] as number)),
      policy: touched.map((s) => policyName(subjectOf[s * 3 + 1] as number)),
      system: touched.map((s) => systemName(subjectOf[s * 3 + 2] as number)),
    },
    links: {
      system: pick(l.y).map(systemName),
      field: pick(l.f).map(fieldName),
      policy: pick(l.p).map(policyName),
      firstUseAt: pick(l.first),
      lastUseAt: pick(l.last),
      count: pick(lCount),
    },
  };
}
