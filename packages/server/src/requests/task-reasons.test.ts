import { describe, expect, it } from 'vitest';
import type { Principal } from '../auth/principal.js';
import {
  readReasons,
  reasonText,
  TaskReason,
  visibleReason,
  visibleReasonTexts,
  type StoredReason,
} from './task-reasons.js';

const FIELD_CATEGORIES = new Map<string, string[]>([
  ['accounts.email', ['user.contact.email']],
  ['campaigns.opens', ['user.behavior']],
  ['orders.note', []],
]);
const ADMIN: Principal = { id: 'admin', role: 'admin' };
const CONTACT: Principal = { id: 'contact', role: 'admin', categories: ['user.contact'] };

type Kind = StoredReason['kind'];
type OfKind<K extends Kind> = Extract<StoredReason, { kind: K }>;

/**
 * For every kind of reason: one the contact token reads (with the text the API shows, which is
 * the contract: `reasons: string[]`) and one it must not. A kind without a `hidden` example
 * names no field and no category, and must be listed in NEUTRAL_KINDS. The mapped type makes a
 * new kind fail to compile until it has its examples here; the test below fails at run time too.
 */
const EXAMPLES: { [K in Kind]: { seen?: [OfKind<K>, string]; hidden?: OfKind<K>[] } } = {
  'telemetry-used': {
    seen: [
      { kind: 'telemetry-used', field: 'accounts.email', policy: 'billing' },
      'telemetry: used accounts.email under billing',
    ],
    hidden: [
      { kind: 'telemetry-used', field: 'campaigns.opens', policy: 'billing' },
      // A field without categories, and one the catalog no longer declares: deny by default.
      { kind: 'telemetry-used', field: 'orders.note', policy: 'billing' },
      { kind: 'telemetry-used', field: 'gone.field', policy: 'billing' },
    ],
  },
  'telemetry-holds': {
    seen: [{ kind: 'telemetry-holds', field: 'accounts.email' }, 'telemetry: holds accounts.email'],
    hidden: [{ kind: 'telemetry-holds', field: 'campaigns.opens' }],
  },
  datamap: {
    seen: [
      { kind: 'datamap', how: 'receives', categories: ['user.contact.email'], via: ['accounts', 'mailer'] },
      'data map: receives user.contact.email via accounts → mailer',
    ],
    hidden: [
      { kind: 'datamap', how: 'stores', categories: ['user.behavior'], via: ['orders'] },
      { kind: 'datamap', how: 'sends', categories: ['user'], via: ['web'] },
    ],
  },
  'no-rights-client': {
    seen: [{ kind: 'no-rights-client' }, 'no rights client: the owning team gets a ticket'],
  },
  'sql-connector': { seen: [{ kind: 'sql-connector' }, 'SQL connector: searched directly'] },
  // A hold may span every category: its name is for tokens without limits (as GET /v1/holds).
  'legal-hold': { hidden: [{ kind: 'legal-hold', hold: 'lit-crm' }] },
  // Text from older versions is shown as it is, and only to tokens without category limits.
  opaque: {
    hidden: [
      { kind: 'opaque', text: 'data map: stores user.contact.email' },
      { kind: 'opaque', text: 'telemetry: used campaigns.opens under billing' },
    ],
  },
};
/** Kinds every token reads: a deliberate choice, made here for each one. */
const NEUTRAL_KINDS = ['no-rights-client', 'sql-connector'];

describe('task reasons: every kind has a visibility rule', () => {
  it('has examples for every kind the store may hold', () => {
    const stored = TaskReason.anyOf.map((schema) => schema.properties.kind.const as string);
    expect(Object.keys(EXAMPLES).sort()).toEqual([...stored, 'opaque'].sort());
  });

  it('hides each kind from a token that does not see its field or category, unless it names none', () => {
    for (const [kind, { hidden = [] }] of Object.entries(EXAMPLES)) {
      if (hidden.length === 0) expect(NEUTRAL_KINDS, `${kind} has no hidden example`).toContain(kind);
      else expect(NEUTRAL_KINDS).not.toContain(kind);
      for (const reason of hidden) {
        expect(visibleReason(CONTACT, reason, FIELD_CATEGORIES), JSON.stringify(reason)).toBeUndefined();
        // A token without limits reads it, as the API always showed it.
        expect(visibleReason(ADMIN, reason, FIELD_CATEGORIES)).toEqual(reason);
      }
    }
  });

  it('shows each kind to a token that sees its field or category, as the text the API always had', () => {
    for (const { seen } of Object.values(EXAMPLES)) {
      if (!seen) continue;
      const [reason, text] = seen;
      expect(visibleReasonTexts(CONTACT, [reason], FIELD_CATEGORIES)).toEqual([text]);
      expect(visibleReasonTexts(ADMIN, [reason], FIELD_CATEGORIES)).toEqual([text]);
    }
  });

  it('says which legal hold kept a task from erasing', () => {
    expect(visibleReasonTexts(ADMIN, [{ kind: 'legal-hold', hold: 'lit-crm' }], FIELD_CATEGORIES)).toEqual([
      'legal hold "lit-crm": kept, not erased',
    ]);
  });

  it('denies a kind it has no rule for, should one get past the types', () => {
    const unknown = { kind: 'consent', purpose: 'marketing' } as unknown as StoredReason;
    expect(visibleReason(CONTACT, unknown, FIELD_CATEGORIES)).toBeUndefined();
  });

  it('narrows a data-map reason to the categories the token sees', () => {
    const reason: StoredReason = {
      kind: 'datamap',
      how: 'stores',
      categories: ['user.behavior', 'user.contact.address', 'user.name'],
      via: ['orders'],
    };
    expect(visibleReasonTexts(CONTACT, [reason], FIELD_CATEGORIES)).toEqual([
      'data map: stores user.contact.address',
    ]);
    expect(reasonText(reason)).toBe('data map: stores user.behavior, user.contact.address, user.name');
  });
});

describe('readReasons', () => {
  it('reads what the planner stores', () => {
    const reasons: TaskReason[] = [
      { kind: 'telemetry-used', field: 'accounts.email', policy: 'billing' },
      { kind: 'datamap', how: 'stores', categories: ['user.contact.email'], via: ['accounts'] },
      { kind: 'no-rights-client' },
    ];
    expect(readReasons(JSON.stringify(reasons))).toEqual(reasons);
  });

  it('reads plain strings from older versions as opaque text', () => {
    const legacy = ['telemetry: used accounts.email under billing', 'SQL connector: searched directly'];
    expect(readReasons(JSON.stringify(legacy))).toEqual(legacy.map((text) => ({ kind: 'opaque', text })));
    expect(visibleReasonTexts(ADMIN, readReasons(JSON.stringify(legacy)), FIELD_CATEGORIES)).toEqual(legacy);
    expect(visibleReasonTexts(CONTACT, readReasons(JSON.stringify(legacy)), FIELD_CATEGORIES)).toEqual([]);
  });

  it('reads an unknown or malformed reason as opaque, never throwing', () => {
    const future = { kind: 'consent', purpose: 'marketing' };
    const broken = { kind: 'telemetry-used', field: 'accounts.email' }; // no policy
    const empty = { kind: 'datamap', how: 'stores', categories: [], via: [] };
    expect(readReasons(JSON.stringify([future, broken, empty, 7]))).toEqual([
      { kind: 'opaque', text: JSON.stringify(future) },
      { kind: 'opaque', text: JSON.stringify(broken) },
      { kind: 'opaque', text: JSON.stringify(empty) },
      { kind: 'opaque', text: '7' },
    ]);
    expect(readReasons('{"kind":"sql-connector"}')).toEqual([
      { kind: 'opaque', text: '{"kind":"sql-connector"}' },
    ]);
    expect(readReasons('not json')).toEqual([{ kind: 'opaque', text: 'not json' }]);
  });
});
