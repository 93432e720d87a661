import { distance } from 'fastest-levenshtein';
import { AppError } from './app-error.js';
import { byCodeUnit } from './by-code-unit.js';

/**
 * Taxonomies of dotted keys: the data categories fields carry and the purposes policies serve.
 *
 * A key's parent is the key without its last segment (`user.contact` for `user.contact.email`),
 * so the tree is written in the keys themselves and a filter on a parent covers its children.
 * The defaults follow Fideslang's data categories; users add keys below existing ones.
 */
export interface TaxonomyEntry {
  readonly key: string;
  readonly description: string;
  /** A GDPR Art. 9 special category; children inherit it. */
  readonly special?: boolean;
}

/** An entry as shown to people: its parent, the special flag as inherited, and where it comes from. */
export interface TaxonomyListing {
  readonly key: string;
  readonly description: string;
  readonly parent: string | undefined;
  readonly special: boolean;
  readonly origin: 'default' | 'extension';
}

export type TaxonomyErrorReason = 'invalid_key' | 'unknown_parent' | 'duplicate' | 'redefines_default';

/** A rejected extension; `key` is the offending key, also given in `details`. */
export class TaxonomyError extends AppError {
  constructor(
    readonly key: string,
    readonly reason: TaxonomyErrorReason,
    message: string,
  ) {
    super('TAXONOMY_INVALID', message, { key, reason });
    this.name = 'TaxonomyError';
  }
}

export const TAXONOMY_KEY_PATTERN = /^[a-z0-9_]+(\.[a-z0-9_]+)*$/;

export const DEFAULT_DATA_CATEGORIES: readonly TaxonomyEntry[] = [
  { key: 'user', description: 'Data about a natural person, the data subject.' },
  { key: 'user.name', description: 'The name of the person.' },
  {
    key: 'user.unique_id',
    description: 'An identifier the organisation assigns to the person (customer id).',
  },
  { key: 'user.contact', description: 'Ways to reach the person.' },
  { key: 'user.contact.email', description: 'Email address.' },
  { key: 'user.contact.phone_number', description: 'Telephone number.' },
  { key: 'user.contact.address', description: 'Postal address.' },
  { key: 'user.contact.address.postal_code', description: 'Postal code.' },
  { key: 'user.contact.address.country', description: 'Country.' },
  { key: 'user.account', description: 'The account the person holds with the organisation.' },
  { key: 'user.account.username', description: 'Login or display name.' },
  { key: 'user.account.settings', description: 'Preferences and settings of the account.' },
  { key: 'user.authorization', description: 'What lets the person sign in.' },
  { key: 'user.authorization.credentials', description: 'Passwords, password hashes, recovery answers.' },
  { key: 'user.authorization.token', description: 'Session and API tokens issued to the person.' },
  { key: 'user.device', description: 'Data about the devices the person uses.' },
  { key: 'user.device.ip_address', description: 'IP address.' },
  { key: 'user.device.cookie_id', description: 'Identifier stored in a cookie.' },
  { key: 'user.device.device_id', description: 'Hardware or advertising identifier of a device.' },
  { key: 'user.device.user_agent', description: 'Browser or app user agent.' },
  { key: 'user.financial', description: 'Financial data of the person.' },
  { key: 'user.financial.bank_account', description: 'Bank account number or IBAN.' },
  { key: 'user.financial.credit_card', description: 'Payment card number and expiry.' },
  { key: 'user.financial.transaction', description: 'Payments made or received.' },
  { key: 'user.government_id', description: 'Identifiers issued by a government.' },
  { key: 'user.government_id.national_id', description: 'National identity or social security number.' },
  { key: 'user.government_id.passport_number', description: 'Passport number.' },
  { key: 'user.government_id.driver_license', description: 'Driving licence number.' },
  { key: 'user.government_id.tax_id', description: 'Tax identification number.' },
  { key: 'user.demographic', description: 'Characteristics of the person.' },
  { key: 'user.demographic.date_of_birth', description: 'Date of birth.' },
  { key: 'user.demographic.age_range', description: 'Age band rather than an exact age.' },
  { key: 'user.demographic.gender', description: 'Gender.' },
  { key: 'user.demographic.language', description: 'Preferred language.' },
  { key: 'user.demographic.racial_ethnic_origin', description: 'Racial or ethnic origin.', special: true },
  { key: 'user.demographic.political_opinion', description: 'Political opinions.', special: true },
  {
    key: 'user.demographic.religious_belief',
    description: 'Religious or philosophical beliefs.',
    special: true,
  },
  {
    key: 'user.demographic.sexual_orientation',
    description: 'Sex life or sexual orientation.',
    special: true,
  },
  { key: 'user.trade_union_membership', description: 'Membership of a trade union.', special: true },
  { key: 'user.health', description: 'Physical or mental health, incl. care received.', special: true },
  { key: 'user.health.medical_record', description: 'Diagnoses, treatments, prescriptions.' },
  { key: 'user.health.insurance', description: 'Health insurance number and claims.' },
  { key: 'user.genetic', description: 'Genetic data, e.g. results of DNA analysis.', special: true },
  { key: 'user.biometric', description: 'Biometric data that identifies the person.', special: true },
  { key: 'user.biometric.fingerprint', description: 'Fingerprints.' },
  { key: 'user.biometric.face', description: 'Facial images or templates used for recognition.' },
  { key: 'user.location', description: 'Where the person is or was.' },
  { key: 'user.location.precise', description: 'GPS position or anything within a few hundred metres.' },
  { key: 'user.location.imprecise', description: 'City, region or country derived from IP or settings.' },
  { key: 'user.behavior', description: 'What the person does.' },
  { key: 'user.behavior.browsing_history', description: 'Pages and screens viewed.' },
  { key: 'user.behavior.purchase_history', description: 'Products and services bought.' },
  { key: 'user.behavior.media_consumption', description: 'Content watched, read or listened to.' },
  { key: 'user.content', description: 'Content the person created: messages, uploads, reviews.' },
  { key: 'user.content.message', description: 'Messages the person sent.' },
  { key: 'user.employment', description: 'Employer, job title, employment history.' },
  { key: 'system', description: 'Data about systems, not about a person.' },
  { key: 'system.operations', description: 'Logs, metrics and traces without personal data.' },
  { key: 'system.authentication', description: 'Credentials of services, not of people.' },
];

export const DEFAULT_PURPOSES: readonly TaxonomyEntry[] = [
  { key: 'essential', description: 'Needed to provide what the person asked for.' },
  { key: 'essential.account', description: 'Create and run the account of the person.' },
  { key: 'essential.orders', description: 'Take, fulfil and deliver orders.' },
  { key: 'essential.payment', description: 'Take payments and refunds.' },
  { key: 'essential.service', description: 'Operate the service itself.' },
  { key: 'essential.service.support', description: 'Answer questions and complaints.' },
  { key: 'marketing', description: 'Promote products and services.' },
  { key: 'marketing.email', description: 'Newsletters and promotional email.' },
  { key: 'marketing.advertising', description: 'Advertising on own and other channels.' },
  { key: 'marketing.advertising.third_party', description: 'Advertising through third-party networks.' },
  { key: 'marketing.profiling', description: 'Segments and profiles for targeting.' },
  { key: 'analytics', description: 'Understand how the service is used.' },
  { key: 'analytics.product', description: 'Measure and improve product features.' },
  { key: 'analytics.reporting', description: 'Business reporting and statistics.' },
  { key: 'security', description: 'Protect the service and its users.' },
  { key: 'security.fraud', description: 'Detect and prevent fraud.' },
  { key: 'security.incident_response', description: 'Investigate and handle security incidents.' },
  { key: 'legal', description: 'Meet obligations and rights under law.' },
  { key: 'legal.tax', description: 'Keep records tax law requires.' },
  { key: 'legal.obligation', description: 'Other legal obligations, e.g. answering authorities.' },
  { key: 'legal.claims', description: 'Establish, exercise or defend legal claims.' },
  { key: 'personalization', description: 'Tailor the service to the person.' },
  { key: 'personalization.recommendations', description: 'Recommend products or content.' },
  { key: 'research', description: 'Research and development of new products.' },
];

interface Node {
  readonly entry: TaxonomyEntry;
  readonly origin: 'default' | 'extension';
}

/** `true` when `key` equals `filter` or lies below it: `user.contact` covers `user.contact.email`. */
export function coversKey(filter: string, key: string): boolean {
  return key === filter || key.startsWith(`${filter}.`);
}

function parentKey(key: string): string | undefined {
  const dot = key.lastIndexOf('.');
  return dot === -1 ? undefined : key.slice(0, dot);
}

function depth(key: string): number {
  return key.split('.').length;
}

/**
 * A taxonomy: the defaults plus the user's extensions. Immutable; `extend` returns a new one.
 *
 * @example
 * const categories = Taxonomy.dataCategories().extend([
 *   { key: 'user.contact.email.work', description: 'Work email address.' },
 * ]);
 * categories.expand(['user.contact.email']); // ['user.contact.email', 'user.contact.email.work']
 * categories.isSpecialCategory('user.health.medical_record'); // true
 */
export class Taxonomy {
  readonly #nodes: ReadonlyMap<string, Node>;
  readonly #children: ReadonlyMap<string, readonly string[]>;

  private constructor(nodes: ReadonlyMap<string, Node>) {
    this.#nodes = nodes;
    const children = new Map<string, string[]>();
    for (const key of nodes.keys()) {
      const parent = parentKey(key);
      if (parent === undefined) continue;
      const siblings = children.get(parent);
      if (siblings) siblings.push(key);
      else children.set(parent, [key]);
    }
    this.#children = children;
  }

  /** The default data categories, plus extensions. */
  static dataCategories(extensions: readonly TaxonomyEntry[] = []): Taxonomy {
    return Taxonomy.of(DEFAULT_DATA_CATEGORIES).extend(extensions);
  }

  /** The default purposes, plus extensions. */
  static purposes(extensions: readonly TaxonomyEntry[] = []): Taxonomy {
    return Taxonomy.of(DEFAULT_PURPOSES).extend(extensions);
  }

  /** A taxonomy whose given entries are its defaults; they are checked like extensions. */
  static of(defaults: readonly TaxonomyEntry[]): Taxonomy {
    return new Taxonomy(addEntries(new Map(), defaults, 'default'));
  }

  /**
   * Adds keys below existing ones (no new roots); parents may come in the same batch, in any order. All or
   * nothing: the first bad entry throws a `TaxonomyError` and this taxonomy stays as it was.
   */
  extend(entries: readonly TaxonomyEntry[]): Taxonomy {
    if (entries.length === 0) return this;
    return new Taxonomy(addEntries(new Map(this.#nodes), entries, 'extension'));
  }

  has(key: string): boolean {
    return this.#nodes.has(key);
  }

  /**
   * The known keys closest to `key` by edit distance (ties in key order), for an answer that
   * says what was probably meant: `markting.email` → `marketing.email`.
   */
  nearest(key: string, count = 3): string[] {
    return [...this.#nodes.keys()]
      .map((known) => ({ known, distance: distance(key, known) }))
      .sort((a, b) => a.distance - b.distance || byCodeUnit(a.known, b.known))
      .slice(0, count)
      .map(({ known }) => known);
  }

  /** The parent of a known key; undefined for a root or an unknown key. */
  parentOf(key: string): string | undefined {
    return this.has(key) ? parentKey(key) : undefined;
  }

  /**
   * The known keys above `key`, nearest first. `key` itself need not be known, so an undeclared
   * `user.health.x` still has `user.health` above it.
   */
  ancestors(key: string): string[] {
    const found: string[] = [];
    for (let parent = parentKey(key); parent !== undefined; parent = parentKey(parent)) {
      if (this.has(parent)) found.push(parent);
    }
    return found;
  }

  /** Every known key below `key`, on all levels, sorted. */
  descendants(key: string): string[] {
    const found: string[] = [];
    const pending = [...(this.#children.get(key) ?? [])];
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      found.push(next);
      pending.push(...(this.#children.get(next) ?? []));
    }
    // Keys hold only [a-z0-9_.] and '.' sorts before all of them, so code-unit order puts every
    // parent right before its subtree: the sorted list reads as the tree.
    return found.sort(byCodeUnit);
  }

  /** The keys plus all their descendants, without repeats, sorted: what a filter on them matches. */
  expand(keys: readonly string[]): string[] {
    const expanded = new Set<string>();
    for (const key of keys) {
      expanded.add(key);
      for (const descendant of this.descendants(key)) expanded.add(descendant);
    }
    return [...expanded].sort(byCodeUnit);
  }

  /** `true` when `key` equals `filter` or lies below it. */
  covers(filter: string, key: string): boolean {
    return coversKey(filter, key);
  }

  /** GDPR Art. 9: the key or one of its known ancestors is flagged special. */
  isSpecialCategory(key: string): boolean {
    return [key, ...this.ancestors(key)].some(
      (candidate) => this.#nodes.get(candidate)?.entry.special === true,
    );
  }

  /** All entries sorted by key, each subtree right after its root. */
  entries(): TaxonomyListing[] {
    return [...this.#nodes.values()]
      .map(({ entry, origin }) => ({
        key: entry.key,
        description: entry.description,
        parent: parentKey(entry.key),
        special: this.isSpecialCategory(entry.key),
        origin,
      }))
      .sort((a, b) => byCodeUnit(a.key, b.key));
  }
}

/** Adds `entries` to `nodes` (mutated), shallowest first so a batch may hold parent and child. */
function addEntries(
  nodes: Map<string, Node>,
  entries: readonly TaxonomyEntry[],
  origin: Node['origin'],
): Map<string, Node> {
  for (const entry of entries) {
    if (!TAXONOMY_KEY_PATTERN.test(entry.key)) {
      throw new TaxonomyError(
        entry.key,
        'invalid_key',
        `Taxonomy key "${entry.key}" is not a dotted key such as user.contact.email.`,
      );
    }
  }
  const shallowestFirst = [...entries].sort((a, b) => depth(a.key) - depth(b.key));
  for (const entry of shallowestFirst) {
    const existing = nodes.get(entry.key);
    if (existing?.origin === 'default' && origin === 'extension') {
      throw new TaxonomyError(
        entry.key,
        'redefines_default',
        `Taxonomy key "${entry.key}" is a default and cannot be redefined.`,
      );
    }
    if (existing) {
      throw new TaxonomyError(entry.key, 'duplicate', `Taxonomy key "${entry.key}" is defined twice.`);
    }
    const parent = parentKey(entry.key);
    // Extensions refine the defaults; a new root would sit outside `user` and `system`, where
    // nothing says whether it is personal data.
    if (parent === undefined && origin === 'extension') {
      throw new TaxonomyError(
        entry.key,
        'unknown_parent',
        `Taxonomy key "${entry.key}" must sit below an existing key, e.g. "user.${entry.key}".`,
      );
    }
    if (parent !== undefined && !nodes.has(parent)) {
      throw new TaxonomyError(
        entry.key,
        'unknown_parent',
        `Taxonomy key "${entry.key}" needs its parent "${parent}" to exist.`,
      );
    }
    nodes.set(entry.key, { entry, origin });
  }
  return nodes;
}

/**
 * Refuses a policy purpose that is not a key of the purpose taxonomy (400 `PURPOSE_UNKNOWN`, with
 * the nearest keys): a consent-based policy with a mistyped purpose would never meet any consent.
 */
export function requirePurpose(purposes: Taxonomy, purpose: string, owner: string): void {
  if (purposes.has(purpose)) return;
  const nearest = purposes.nearest(purpose);
  throw new AppError(
    'PURPOSE_UNKNOWN',
    `${owner}: "${purpose}" is not in the purpose taxonomy; nearest keys: ${nearest.join(', ')}. Add it to the taxonomy first (PUT /v1/taxonomy) if it is a new purpose.`,
    { purpose, nearest },
  );
}
