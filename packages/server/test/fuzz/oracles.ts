/**
 * What every answer must satisfy, whatever was sent: never a 5xx; a refusal in the error
 * envelope; nothing for a caller without a valid token; for a category-limited token, no field
 * or category it may not see; for an auditor without the subject-ids grant, no subject id.
 */
export type FindingKind =
  '5xx' | 'envelope' | 'unauthenticated' | 'leak' | 'subject-leak' | 'existence' | 'no-answer';

export interface Finding {
  readonly kind: FindingKind;
  readonly operation: string;
  readonly caller: string;
  readonly status: number;
  readonly detail: string;
  /** Enough to send it again: method, path, content type, the start of the body. */
  readonly request: string;
}

/**
 * The identifiers in a text, whole: `accounts.name`, `user.behavior`, `u-1001`,
 * `customer-1001@example.com`. Matching whole tokens, not substrings, keeps `user.contact` from
 * matching inside `user.contact.email` and `u-100` inside `u-1001`; a trailing dot ends a sentence.
 */
export function tokensOf(text: string): Set<string> {
  return new Set(text.match(/[A-Za-z0-9_@~+]+(?:[.-][A-Za-z0-9_@~+]+)*/g) ?? []);
}

/** A category key covers itself and what is below it: `user.contact` covers `user.contact.email`. */
export function covers(scope: readonly string[], category: string): boolean {
  return scope.some((granted) => category === granted || category.startsWith(`${granted}.`));
}

export interface CatalogField {
  /** `dataset.field` */
  readonly name: string;
  readonly categories: readonly string[];
}

/**
 * The field names and categories a scope must never see in an answer. Computed from the demo's
 * catalog, then only ever shrunk: when the fuzzer's own writes make a field visible to the scope
 * (a new category), it leaves the set for good, so what the scope saw once is never a leak later.
 */
export class HiddenNames {
  private readonly fields = new Set<string>();
  private readonly categories = new Set<string>();

  constructor(
    readonly scope: readonly string[],
    catalog: readonly CatalogField[],
  ) {
    for (const field of catalog) {
      if (field.categories.some((category) => covers(scope, category))) continue;
      this.fields.add(field.name);
      for (const category of field.categories) if (!covers(scope, category)) this.categories.add(category);
    }
    this.shrink(catalog);
  }

  /** Forgets what the current catalog shows the scope. */
  shrink(catalog: readonly CatalogField[]): void {
    for (const field of catalog) {
      if (!field.categories.some((category) => covers(this.scope, category))) continue;
      this.fields.delete(field.name);
      for (const category of field.categories) this.categories.delete(category);
    }
  }

  /**
   * Hidden names in an answer, less those the request itself named (an error that echoes the
   * caller's own input tells it nothing). The taxonomy lists every category by design: there
   * only field names count.
   */
  leaks(answer: Set<string>, request: Set<string>, categoriesArePublic: boolean): string[] {
    const found: string[] = [];
    for (const token of answer) {
      if (request.has(token)) continue;
      if (this.fields.has(token) || (!categoriesArePublic && this.categories.has(token))) found.push(token);
    }
    return found;
  }

  get size(): number {
    return this.fields.size + this.categories.size;
  }
}

/** The envelope every refusal is in: `{"error":{"code","message"}}`. */
export function inEnvelope(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    return typeof parsed.error?.code === 'string' && typeof parsed.error.message === 'string';
  } catch {
    return false;
  }
}

/** The `error.code` of a refusal, or '' when the answer has none. */
export function codeOf(body: string): string {
  try {
    const code = (JSON.parse(body) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? code : '';
  } catch {
    return '';
  }
}
