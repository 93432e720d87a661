import type { Column } from './components/data-table.js';
import type { TableQuery } from './use-table-query.js';

/**
 * A page of a list loaded whole (policies, holds, contracts: tens of rows, not thousands):
 * searched in every column that has a `value`, sorted by the chosen one, cut to the page.
 */
export function localRows<T>(
  rows: readonly T[],
  columns: readonly Column<T>[],
  query: Pick<TableQuery, 'get' | 'sort' | 'offset' | 'pageSize'>,
): { rows: T[]; total: number } {
  const needle = query.get('q').toLowerCase();
  const searchable = columns.filter((column) => column.value !== undefined);
  const found =
    needle === ''
      ? [...rows]
      : rows.filter((row) =>
          searchable.some((column) => String(column.value?.(row)).toLowerCase().includes(needle)),
        );
  const sortBy = columns.find((column) => column.key === query.sort?.key)?.value;
  if (sortBy) {
    const direction = query.sort?.descending ? -1 : 1;
    found.sort((a, b) => {
      const [left, right] = [sortBy(a), sortBy(b)];
      return (left < right ? -1 : left > right ? 1 : 0) * direction;
    });
  }
  return { rows: found.slice(query.offset, query.offset + query.pageSize), total: found.length };
}
