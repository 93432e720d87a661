import type { IdentifierTag } from '@lethe/api';
import type { ConfigProblem } from './connector-config.js';

/** What the fideslang import reads with: options, problems and notes, and small readers. */

/** fideslang identity names with a Lethe identifier of their own; others need `identities`. */
export const FIDES_DEFAULT_IDENTITIES: Readonly<Record<string, IdentifierTag>> = {
  email: 'email',
  phone_number: 'phone',
};

export interface FidesImportOptions {
  /** The dataset's `fides_key` when the file holds several. */
  readonly dataset?: string | undefined;
  /** More identity names → identifier tags (`user_id: subject-id`), over the defaults. */
  readonly identities?: Readonly<Record<string, IdentifierTag>>;
  /** Data category keys the server knows; without it categories are not checked here. */
  readonly categories?: { has(key: string): boolean };
}

export type Node = Record<string, unknown>;

export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

const USE_KEYS = ['data_uses', 'data_purposes', 'data_subjects'] as const;

export class Reader {
  readonly problems: ConfigProblem[] = [];
  readonly notes = new Set<string>();
  constructor(readonly options: FidesImportOptions) {}
  problem(path: string, message: string): void {
    this.problems.push({ path, message });
  }
  /** Reports every key not in `known`: a typo must not pass for an annotation. */
  unknownKeys(node: Node, known: ReadonlySet<string>, path: string, what: string): void {
    for (const key of Object.keys(node)) {
      if (!known.has(key)) this.problem(`${path}.${key}`, `'${key}' is not a key of a fideslang ${what}`);
    }
  }
  /** `fides_meta`, or the older `fidesops_meta` fideslang still reads. */
  meta(node: Node, path: string): { meta: Node; path: string } {
    const key = node['fides_meta'] !== undefined ? 'fides_meta' : 'fidesops_meta';
    const value = node[key];
    if (value === undefined || value === null) return { meta: {}, path: `${path}.fides_meta` };
    if (!isNode(value)) {
      this.problem(`${path}.${key}`, 'must be a mapping');
      return { meta: {}, path: `${path}.${key}` };
    }
    return { meta: value, path: `${path}.${key}` };
  }
  uses(node: Node, path: string): void {
    for (const key of USE_KEYS) {
      if (Array.isArray(node[key]) && node[key].length > 0) {
        this.notes.add(
          `${key} (first at ${path}.${key}) are not imported: purposes and legal bases live in Lethe's policies and data map`,
        );
      }
    }
  }
}

export interface DatasetContext {
  readonly key: string | undefined;
  readonly schema: string | undefined;
  readonly collections: ReadonlySet<string | undefined>;
}

export function tableName(context: DatasetContext, collection: string): string {
  return context.schema === undefined ? collection : `${context.schema}.${collection}`;
}

export function isPersonalCategory(key: string): boolean {
  return key === 'user' || key.startsWith('user.');
}

export function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function textOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
