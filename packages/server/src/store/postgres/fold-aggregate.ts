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

/**
 * Row of a key: a dense array (rows + 1, 0 for none) when the key space is small enough — the
 * common case, 4 MiB at most per table and fold, allocated on first use — else a Map.
 */
class KeyIndex {
  private static readonly DENSE_LIMIT = 1 << 20;
  private dense: Int32Array | undefined;
  private readonly map: Map<number, number> | undefined;

  constructor(private readonly space: number) {
    if (space > KeyIndex.DENSE_LIMIT) this.map = new Map();
  }

  get(key: number): number {
    if (this.map) return this.map.get(key) ?? -1;
    return this.dense ? (this.dense[key] as number) - 1 : -1;
  }

  set(key: number, row: number): void {
    if (this.map) this.map.set(key, row);
    else (this.dense ??= new Int32Array(this.space))[key] = row + 1;
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

/** The names of one fold, by kind; a key is built from their ids. */
interface FoldNames {
  readonly subjects: Names;
  readonly fields: Names;
  readonly policies: Names;
  readonly systems: Names;
}

/** One use of one field, with everything the tables need. */
interface Use {
  s: number;
  f: number;
  p: number;
  y: number;
  at: number;
  keepsUntil: number;
  /** The use's time when it was made under consent; null when not consent-based or not consented. */
  consentedUseAt: number | null;
}

/** Per (subject, field, policy): first and last use, count, last system, last consented use. */
class UsageTable {
  private readonly index: KeyIndex;
  readonly s: number[] = [];
  readonly f: number[] = [];
  readonly p: number[] = [];
  readonly y: number[] = [];
  readonly first: number[] = [];
  readonly last: number[] = [];
  readonly count: number[] = [];
  readonly consented: (number | null)[] = [];

  constructor(
    private readonly F: number,
    private readonly P: number,
    S: number,
  ) {
    this.index = new KeyIndex(S * F * P);
  }

  add(use: Use): void {
    const key = (use.s * this.F + use.f) * this.P + use.p;
    const row = this.index.get(key);
    if (row < 0) {
      this.index.set(key, this.s.length);
      this.s.push(use.s);
      this.f.push(use.f);
      this.p.push(use.p);
      this.y.push(use.y);
      this.first.push(use.at);
      this.last.push(use.at);
      this.count.push(1);
      this.consented.push(use.consentedUseAt);
      return;
    }
    this.count[row] = (this.count[row] as number) + 1;
    if (use.consentedUseAt !== null) {
      this.consented[row] = Math.max(this.consented[row] ?? -Infinity, use.consentedUseAt);
    }
    if (use.at < (this.first[row] as number)) this.first[row] = use.at;
    if (use.at >= (this.last[row] as number)) {
      this.last[row] = use.at;
      this.y[row] = use.y;
    }
  }
}

/** Per (subject, field): the latest expiry (with the policy and system that gave it) and last use. */
class FieldTable {
  private readonly index: KeyIndex;
  readonly s: number[] = [];
  readonly f: number[] = [];
  readonly expires: number[] = [];
  readonly p: number[] = [];
  readonly y: number[] = [];
  readonly last: number[] = [];

  constructor(
    private readonly F: number,
    S: number,
  ) {
    this.index = new KeyIndex(S * F);
  }

  add(use: Use): void {
    const key = use.s * this.F + use.f;
    const row = this.index.get(key);
    if (row < 0) {
      this.index.set(key, this.s.length);
      this.s.push(use.s);
      this.f.push(use.f);
      this.expires.push(use.keepsUntil);
      this.p.push(use.p);
      this.y.push(use.y);
      this.last.push(use.at);
      return;
    }
    if (use.at > (this.last[row] as number)) this.last[row] = use.at;
    if (use.keepsUntil > (this.expires[row] as number)) {
      this.expires[row] = use.keepsUntil;
      this.p[row] = use.p;
      this.y[row] = use.y;
    }
  }
}

/** Per (system, field, policy), and per (subject, policy, system) for violations: first, last, count. */
class SpanTable {
  private readonly index: KeyIndex;
  readonly a: number[] = [];
  readonly b: number[] = [];
  readonly c: number[] = [];
  readonly first: number[] = [];
  readonly last: number[] = [];
  readonly count: number[] = [];
  /** Violations: the purpose whose consent was missing (the first seen, as aggregateBatch). */
  readonly purpose: string[] = [];

  constructor(
    private readonly B: number,
    private readonly C: number,
    A: number,
  ) {
    this.index = new KeyIndex(A * B * C);
  }

  add(a: number, b: number, c: number, at: number, purpose = ''): void {
    const key = (a * this.B + b) * this.C + c;
    const row = this.index.get(key);
    if (row < 0) {
      this.index.set(key, this.a.length);
      this.a.push(a);
      this.b.push(b);
      this.c.push(c);
      this.first.push(at);
      this.last.push(at);
      this.count.push(1);
      this.purpose.push(purpose);
      return;
    }
    if (at < (this.first[row] as number)) this.first[row] = at;
    if (at > (this.last[row] as number)) this.last[row] = at;
    this.count[row] = (this.count[row] as number) + 1;
  }
}

/** Per subject: the latest expiry over its fields, with the field, policy and system that gave it. */
class SubjectTable {
  readonly expires: Float64Array;
  readonly of: Int32Array;

  constructor(S: number) {
    this.expires = new Float64Array(S).fill(-Infinity);
    this.of = new Int32Array(S * 3);
  }

  add(use: Use): void {
    if (use.keepsUntil <= (this.expires[use.s] as number)) return;
    this.expires[use.s] = use.keepsUntil;
    this.of[use.s * 3] = use.f;
    this.of[use.s * 3 + 1] = use.p;
    this.of[use.s * 3 + 2] = use.y;
  }
}

export function aggregateFold(events: readonly FoldedEvent[], consentOf: ConsentLookup): FoldTables {
  const names: FoldNames = {
    subjects: new Names(),
    fields: new Names(),
    policies: new Names(),
    systems: new Names(),
  };
  // First pass: intern, so that the key multipliers (how many fields, policies, systems) are known.
  const eventIds = new Int32Array(events.length * 3);
  const fieldIds: number[] = [];
  events.forEach((event, index) => {
    eventIds[index * 3] = names.subjects.id(event.subject);
    eventIds[index * 3 + 1] = names.systems.id(event.system);
    eventIds[index * 3 + 2] = names.policies.id(event.policy);
    for (const field of event.fields) fieldIds.push(names.fields.id(field));
  });
  const S = names.subjects.names.length;
  const F = names.fields.names.length;
  const P = names.policies.names.length;
  const Y = names.systems.names.length;
  const usages = new UsageTable(F, P, S);
  const fields = new FieldTable(F, S);
  const subjects = new SubjectTable(S);
  const links = new SpanTable(F, P, Y);
  const violations = new SpanTable(P, Y, S);

  let nextField = 0;
  events.forEach((event, index) => {
    const purpose = event.consentPurpose;
    const window = purpose === undefined ? undefined : consentOf(event.subject, purpose);
    const consented = window === undefined || isConsentedUse(window, event.at);
    const use: Use = {
      s: eventIds[index * 3] as number,
      f: 0,
      p: eventIds[index * 3 + 2] as number,
      y: eventIds[index * 3 + 1] as number,
      at: event.at,
      keepsUntil: useKeepsUntil(event.at, event.keepsUntil, window),
      consentedUseAt: purpose !== undefined && consented ? event.at : null,
    };
    if (purpose !== undefined && !consented) violations.add(use.s, use.p, use.y, use.at, purpose);
    for (let n = 0; n < event.fields.length; n += 1) {
      use.f = fieldIds[nextField++] as number;
      links.add(use.y, use.f, use.p, use.at);
      usages.add(use);
      fields.add(use);
      subjects.add(use);
    }
  });
  return columns(names, { usages, fields, subjects, links, violations });
}

function columns(
  names: FoldNames,
  tables: {
    usages: UsageTable;
    fields: FieldTable;
    subjects: SubjectTable;
    links: SpanTable;
    violations: SpanTable;
  },
): FoldTables {
  const name = (table: Names) => (id: number) => table.names[id] as string;
  const subject = name(names.subjects);
  const field = name(names.fields);
  const policy = name(names.policies);
  const system = name(names.systems);
  const { usages, fields, subjects, links, violations } = tables;
  const touched = names.subjects.names.flatMap((_name, s) => (subjects.expires[s] === -Infinity ? [] : [s]));
  const linkKey = (row: number) =>
    `${system(links.a[row] as number)}\u0000${field(links.b[row] as number)}\u0000${policy(links.c[row] as number)}`;
  const linkOrder = links.a
    .map((_a, row) => ({ row, key: linkKey(row) }))
    .sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0))
    .map(({ row }) => row);
  const inLinkOrder = <T>(values: readonly T[]) => linkOrder.map((row) => values[row] as T);
  return {
    usages: {
      subject: usages.s.map(subject),
      field: usages.f.map(field),
      policy: usages.p.map(policy),
      firstUseAt: usages.first,
      lastUseAt: usages.last,
      count: usages.count,
      lastSystem: usages.y.map(system),
      lastConsentedUseAt: usages.consented,
    },
    violations: {
      subject: violations.a.map(subject),
      policy: violations.b.map(policy),
      system: violations.c.map(system),
      purpose: violations.purpose,
      firstAt: violations.first,
      lastAt: violations.last,
      count: violations.count,
    },
    fields: {
      subject: fields.s.map(subject),
      field: fields.f.map(field),
      expiresAt: fields.expires,
      policy: fields.p.map(policy),
      system: fields.y.map(system),
      lastUseAt: fields.last,
    },
    subjects: {
      subject: touched.map(subject),
      expiresAt: touched.map((s) => subjects.expires[s] as number),
      field: touched.map((s) => field(subjects.of[s * 3] as number)),
      policy: touched.map((s) => policy(subjects.of[s * 3 + 1] as number)),
      system: touched.map((s) => system(subjects.of[s * 3 + 2] as number)),
    },
    links: {
      system: inLinkOrder(links.a).map(system),
      field: inLinkOrder(links.b).map(field),
      policy: inLinkOrder(links.c).map(policy),
      firstUseAt: inLinkOrder(links.first),
      lastUseAt: inLinkOrder(links.last),
      count: inLinkOrder(links.count),
    },
  };
}
