import { localRows } from '../local-rows.js';
import type { TableQuery } from '../use-table-query.js';
import { DataTable, type DataTableProps } from './data-table.js';

/**
 * A DataTable over a list loaded whole (policies, holds, a subject's fields): the page of `rows`
 * that the address's search, sort and page ask for, cut in the browser by `localRows`.
 */
export function LocalTable<T>(props: Omit<DataTableProps<T>, 'total'> & { readonly query: TableQuery }) {
  const shown = localRows(props.rows, props.columns, props.query);
  return <DataTable {...props} rows={shown.rows} total={shown.total} />;
}
