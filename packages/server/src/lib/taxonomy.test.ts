import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DATA_CATEGORIES,
  DEFAULT_PURPOSES,
  TAXONOMY_KEY_PATTERN,
  Taxonomy,
  TaxonomyError,
  type TaxonomyEntry,
  type TaxonomyErrorReason,
} from './taxonomy.js';

const categories = Taxonomy.dataCategories();

function rejection(extend: () => unknown): { key: string; reason: TaxonomyErrorReason; code: string } {
  try {
    extend();
  } catch (error) {
    if (error instanceof TaxonomyError) return { key: error.key, reason: error.reason, code: error.code };
    throw error;
  }
  throw new Error('expected a TaxonomyError');
}

describe.each([
  ['data categories', DEFAULT_DATA_CATEGORIES],
  ['purposes', DEFAULT_PURPOSES],
])('default %s', (_name, defaults) => {
  const keys = defaults.map((entry) => entry.key);

  it('has valid, unique keys with descriptions', () => {
    expect(keys.filter((key) => !TAXONOMY_KEY_PATTERN.test(key))).toEqual([]);
    expect(new Set(keys).size).toBe(keys.length);
    expect(defaults.filter((entry) => entry.description.trim() === '')).toEqual([]);
  });

  it('has the parent of every non-root key', () => {
    const orphans = keys.filter(
      (key) => key.includes('.') && !keys.includes(key.slice(0, key.lastIndexOf('.'))),
    );
    expect(orphans).toEqual([]);
  });

  it('builds without error', () => {
    expect(Taxonomy.of(defaults).entries()).toHaveLength(defaults.length);
  });
});

describe('default data categories', () => {
  it('flag the GDPR Art. 9 special categories', () => {
    const special = DEFAULT_DATA_CATEGORIES.filter((entry) => entry.special).map((entry) => entry.key);
    expect(special.sort()).toEqual([
      'user.biometric',
      'user.demographic.political_opinion',
      'user.demographic.racial_ethnic_origin',
      'user.demographic.religious_belief',
      'user.demographic.sexual_orientation',
      'user.genetic',
      'user.health',
      'user.trade_union_membership',
    ]);
  });
});

describe('Taxonomy navigation', () => {
  it('knows keys and their parents', () => {
    expect(categories.has('user.contact.email')).toBe(true);
    expect(categories.has('user.contact.fax')).toBe(false);
    expect(categories.parentOf('user.contact.address.postal_code')).toBe('user.contact.address');
    expect(categories.parentOf('user')).toBeUndefined();
    expect(categories.parentOf('user.contact.fax')).toBeUndefined();
  });

  it('lists ancestors nearest first, also for an undeclared key', () => {
    expect(categories.ancestors('user.contact.address.postal_code')).toEqual([
      'user.contact.address',
      'user.contact',
      'user',
    ]);
    expect(categories.ancestors('user')).toEqual([]);
    expect(categories.ancestors('user.health.dental.x')).toEqual(['user.health', 'user']);
  });

  it('lists descendants on all levels', () => {
    expect(categories.descendants('user.contact')).toEqual([
      'user.contact.address',
      'user.contact.address.country',
      'user.contact.address.postal_code',
      'user.contact.email',
      'user.contact.phone_number',
    ]);
    expect(categories.descendants('user.contact.email')).toEqual([]);
    expect(categories.descendants('system')).toEqual(['system.authentication', 'system.operations']);
    expect(categories.descendants('user')).toHaveLength(DEFAULT_DATA_CATEGORIES.length - 3 - 1);
  });

  it('expands filters to their subtrees, once each, keeping unknown keys', () => {
    expect(categories.expand(['user.device', 'user.device.ip_address', 'user.contact.address'])).toEqual([
      'user.contact.address',
      'user.contact.address.country',
      'user.contact.address.postal_code',
      'user.device',
      'user.device.cookie_id',
      'user.device.device_id',
      'user.device.ip_address',
      'user.device.user_agent',
    ]);
    expect(categories.expand(['custom.thing'])).toEqual(['custom.thing']);
    expect(categories.expand([])).toEqual([]);
  });

  it('covers a key by itself and by its ancestors, not by a mere prefix', () => {
    expect(categories.covers('user.contact', 'user.contact.address.postal_code')).toBe(true);
    expect(categories.covers('user', 'user.contact.email')).toBe(true);
    expect(categories.covers('user.contact.email', 'user.contact.email')).toBe(true);
    expect(categories.covers('user.contact.email', 'user.contact')).toBe(false);
    expect(categories.covers('user.contact', 'user.contacts')).toBe(false);
  });

  it('inherits the special flag down the tree', () => {
    expect(categories.isSpecialCategory('user.health')).toBe(true);
    expect(categories.isSpecialCategory('user.health.medical_record')).toBe(true);
    expect(categories.isSpecialCategory('user.biometric.fingerprint')).toBe(true);
    expect(categories.isSpecialCategory('user.health.undeclared')).toBe(true);
    expect(categories.isSpecialCategory('user.demographic')).toBe(false);
    expect(categories.isSpecialCategory('user.demographic.religious_belief')).toBe(true);
    expect(categories.isSpecialCategory('user.contact.email')).toBe(false);
  });

  it('lists entries sorted, each subtree after its root', () => {
    const listed = categories.entries();
    const keys = listed.map((entry) => entry.key);
    expect(keys.indexOf('user')).toBeLessThan(keys.indexOf('user.contact'));
    expect(keys.indexOf('user.contact.phone_number')).toBeLessThan(keys.indexOf('user.demographic'));
    expect(listed.find((entry) => entry.key === 'user.health.insurance')).toEqual({
      key: 'user.health.insurance',
      description: 'Health insurance number and claims.',
      parent: 'user.health',
      special: true,
      origin: 'default',
    });
  });
});

describe('Taxonomy.extend', () => {
  const loyalty: TaxonomyEntry[] = [
    { key: 'user.account.loyalty.tier', description: 'Loyalty programme tier.' },
    { key: 'user.account.loyalty', description: 'Loyalty programme membership.' },
    { key: 'user.health.allergy', description: 'Food allergies declared for delivery.' },
  ];
  const extended = categories.extend(loyalty);

  it('adds keys under existing parents, parents and children in any order', () => {
    expect(extended.has('user.account.loyalty.tier')).toBe(true);
    expect(extended.parentOf('user.account.loyalty.tier')).toBe('user.account.loyalty');
    expect(extended.expand(['user.account'])).toEqual([
      'user.account',
      'user.account.loyalty',
      'user.account.loyalty.tier',
      'user.account.settings',
      'user.account.username',
    ]);
    expect(extended.entries().find((entry) => entry.key === 'user.account.loyalty')?.origin).toBe(
      'extension',
    );
  });

  it('leaves the original untouched', () => {
    expect(categories.has('user.account.loyalty')).toBe(false);
  });

  it('lets extensions inherit and set the special flag', () => {
    expect(extended.isSpecialCategory('user.health.allergy')).toBe(true);
    const flagged = categories.extend([
      { key: 'user.behavior.gambling', description: 'Gambling activity.', special: true },
      { key: 'user.behavior.gambling.stakes', description: 'Amounts staked.' },
    ]);
    expect(flagged.isSpecialCategory('user.behavior.gambling.stakes')).toBe(true);
    expect(flagged.isSpecialCategory('user.behavior')).toBe(false);
  });

  it('extends purposes the same way', () => {
    const purposes = Taxonomy.purposes([{ key: 'marketing.email.winback', description: 'Win-back emails.' }]);
    expect(purposes.expand(['marketing.email'])).toEqual(['marketing.email', 'marketing.email.winback']);
    expect(purposes.covers('marketing', 'marketing.email.winback')).toBe(true);
  });

  it.each<[string, TaxonomyEntry[], string, TaxonomyErrorReason]>([
    ['an unknown parent', [{ key: 'user.pets.name', description: 'x' }], 'user.pets.name', 'unknown_parent'],
    ['a new root', [{ key: 'patient', description: 'x' }], 'patient', 'unknown_parent'],
    ['an upper-case key', [{ key: 'user.Contact', description: 'x' }], 'user.Contact', 'invalid_key'],
    ['an empty segment', [{ key: 'user..email', description: 'x' }], 'user..email', 'invalid_key'],
    ['a trailing dot', [{ key: 'user.contact.', description: 'x' }], 'user.contact.', 'invalid_key'],
    [
      'a default key',
      [{ key: 'user.contact.email', description: 'x' }],
      'user.contact.email',
      'redefines_default',
    ],
    [
      'a key twice in one batch',
      [
        { key: 'user.contact.fax', description: 'x' },
        { key: 'user.contact.fax', description: 'y' },
      ],
      'user.contact.fax',
      'duplicate',
    ],
  ])('rejects %s', (_name, entries, key, reason) => {
    expect(rejection(() => categories.extend(entries))).toEqual({ key, reason, code: 'TAXONOMY_INVALID' });
  });

  it('rejects a key an earlier extension defined', () => {
    const fax = [{ key: 'user.contact.fax', description: 'Fax number.' }];
    expect(rejection(() => categories.extend(fax).extend(fax))).toMatchObject({ reason: 'duplicate' });
  });

  it('rejects restating a default; the same leaf under another parent is a new key', () => {
    // The parent is part of the key, so moving `email` means a new key, which is fine, while
    // restating a default key with other attributes is not.
    expect(
      categories
        .extend([{ key: 'user.account.email', description: 'Login email.' }])
        .has('user.account.email'),
    ).toBe(true);
    expect(
      rejection(() =>
        categories.extend([{ key: 'user.health', description: 'Not special.', special: false }]),
      ),
    ).toMatchObject({ key: 'user.health', reason: 'redefines_default' });
  });

  it('names the key and reason in the error details', () => {
    expect(() => categories.extend([{ key: 'user.pets.name', description: 'x' }])).toThrow(
      expect.objectContaining({
        code: 'TAXONOMY_INVALID',
        status: 400,
        details: { key: 'user.pets.name', reason: 'unknown_parent' },
        message: expect.stringContaining('"user.pets"'),
      }),
    );
  });
});
