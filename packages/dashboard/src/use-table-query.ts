import { navigate, useLocation } from './router.js';

/** Page sizes a table offers; the first is the default. */
export const PAGE_SIZES = [25, 50, 100] as const;

/** `due` → ascending by due date; `-due` → descending. */
export interface SortState {
  readonly key: string;
  readonly descending: boolean;
}

export function parseSort(text: string): SortState | undefined {
  if (text === '') return undefined;
  return text.startsWith('-') ? { key: text.slice(1), descending: true } : { key: text, descending: false };
}

export interface TableQuery {
  /** A query parameter of the page, '' when absent. */
  readonly get: (name: string) => string;
  /** 1-based. */
  readonly page: number;
  readonly pageSize: number;
  readonly offset: number;
  readonly sort: SortState | undefined;
  /**
   * Sets parameters ('' or undefined removes one) as a new history entry, so Back returns to the
   * previous state. Any change but the page itself starts again at page 1.
   */
  readonly set: (changes: Readonly<Record<string, string | undefined>>) => void;
  readonly toggleSort: (key: string) => void;
}

/**
 * A table's state (search, filters, sort, page, page size) kept in the address's query, so a
 * reload, a shared link or Back shows the same rows. Names are the page's URL contract
 * (`?status=&q=&sort=&page=`, docs/dashboard.md); `prefix` keeps two tables on a page apart.
 */
export function useTableQuery(defaults: { sort?: string; prefix?: string } = {}): TableQuery {
  const { path, query } = useLocation();
  const prefix = defaults.prefix ?? '';
  const get = (name: string) => query.get(prefix + name) ?? '';
  const page = Math.max(1, Number.parseInt(get('page'), 10) || 1);
  const size = Number(get('size'));
  const pageSize = (PAGE_SIZES as readonly number[]).includes(size) ? size : PAGE_SIZES[0];
  const sort = parseSort(get('sort') || (defaults.sort ?? ''));
  const set: TableQuery['set'] = (changes) => {
    const next = new URLSearchParams(query);
    for (const [name, value] of Object.entries(changes)) {
      if (value === undefined || value === '') next.delete(prefix + name);
      else next.set(prefix + name, value);
    }
    if (!('page' in changes)) next.delete(`${prefix}page`);
    const search = next.toString();
    navigate(search === '' ? path : `${path}?${search}`);
  };
  return {
    get,
    page,
    pageSize,
    offset: (page - 1) * pageSize,
    sort,
    set,
    toggleSort: (key) => set({ sort: sort?.key === key && !sort.descending ? `-${key}` : key }),
  };
}
