import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { TableScroll } from './table-scroll.js';
import { PAGE_SIZES, type TableQuery } from '../use-table-query.js';

export interface Column<T> {
  /** The sort key (`?sort=key`) and React key. */
  readonly key: string;
  readonly header: string;
  readonly cell: (row: T) => ReactNode;
  /** The value a list loaded whole is searched and sorted by; with it the column is sortable. */
  readonly value?: (row: T) => string | number;
  /** Sortable on the server (lists paged there), without a `value`. */
  readonly sortable?: boolean;
  readonly className?: string;
}

export interface DataTableProps<T> {
  readonly columns: readonly Column<T>[];
  readonly rows: readonly T[];
  readonly rowKey: (row: T) => string;
  /** Its state (sort, page, size) in the address; without it the table is a plain one. */
  readonly query?: TableQuery;
  /** False for a list that pages itself (a server cursor and "Show more"): its headers sort, no pager. */
  readonly paged?: boolean;
  /** Rows over every page, where known; else `hasMore` says whether a next page exists. */
  readonly total?: number;
  readonly hasMore?: boolean;
  /** What the list is, for the scrolling region's name ("Requests"). */
  readonly label: string;
  readonly caption?: ReactNode;
  readonly empty: ReactNode;
  readonly testId?: string;
  readonly rowClassName?: (row: T) => string | undefined;
}

/**
 * Every list of the dashboard: a real `<table>` with column headers, sorting by a header's
 * button (announced through `aria-sort`), and paging whose state lives in the address. At 390 px
 * the table scrolls sideways inside its wrapper, never the page.
 */
export function DataTable<T>(props: DataTableProps<T>) {
  const { query, columns, rows } = props;
  return (
    <>
      <TableScroll label={props.label}>
        <table data-testid={props.testId}>
          {props.caption !== undefined ? <caption className="muted">{props.caption}</caption> : null}
          <thead>
            <tr>
              {columns.map((column) => (
                <HeaderCell key={column.key} column={column} query={query} />
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 ? (
              <tr>
                <td colSpan={columns.length}>{props.empty}</td>
              </tr>
            ) : (
              rows.map((row) => (
                <tr key={props.rowKey(row)} className={props.rowClassName?.(row)}>
                  {columns.map((column) => (
                    <td key={column.key} className={column.className}>
                      {column.cell(row)}
                    </td>
                  ))}
                </tr>
              ))
            )}
          </tbody>
        </table>
      </TableScroll>
      {query && props.paged !== false ? (
        <Pager query={query} shown={rows.length} total={props.total} hasMore={props.hasMore ?? false} />
      ) : null}
    </>
  );
}

function HeaderCell<T>({ column, query }: { column: Column<T>; query: TableQuery | undefined }) {
  const sortable = query !== undefined && (column.sortable === true || column.value !== undefined);
  if (!sortable) return <th scope="col">{column.header}</th>;
  const sorted = query.sort?.key === column.key ? query.sort : undefined;
  const direction = sorted ? (sorted.descending ? 'descending' : 'ascending') : 'none';
  return (
    <th scope="col" aria-sort={direction}>
      {/* The button's name is the header's text, so "sort by Due" is found by what is seen. */}
      <button type="button" className="sort-button" onClick={() => query.toggleSort(column.key)}>
        {column.header}
        <span aria-hidden="true" className="sort-mark">
          {sorted ? (sorted.descending ? ' ▼' : ' ▲') : ' ↕'}
        </span>
      </button>
    </th>
  );
}

function Pager(props: { query: TableQuery; shown: number; total: number | undefined; hasMore: boolean }) {
  const { query, shown, total } = props;
  const sizeId = useId();
  const first = shown === 0 ? 0 : query.offset + 1;
  const last = query.offset + shown;
  const hasNext = total !== undefined ? last < total : props.hasMore;
  if (query.page === 1 && !hasNext && shown < PAGE_SIZES[0]) {
    return (
      <p className="pager muted" role="status">
        {shown} shown
      </p>
    );
  }
  return (
    <nav className="pager" aria-label="Pages">
      <p role="status">
        {first}–{last}
        {total !== undefined ? ` of ${total}` : ''}
      </p>
      <button
        type="button"
        className="secondary"
        disabled={query.page <= 1}
        onClick={() => query.set({ page: String(query.page - 1) })}
      >
        Previous
      </button>
      <button
        type="button"
        className="secondary"
        disabled={!hasNext}
        onClick={() => query.set({ page: String(query.page + 1) })}
      >
        Next
      </button>
      <label htmlFor={sizeId}>Per page</label>
      <select
        id={sizeId}
        value={query.pageSize}
        onChange={(event) =>
          query.set({ size: event.target.value === String(PAGE_SIZES[0]) ? undefined : event.target.value })
        }
      >
        {PAGE_SIZES.map((size) => (
          <option key={size} value={size}>
            {size}
          </option>
        ))}
      </select>
    </nav>
  );
}

/**
 * The search box of a list: applied on Enter or the button (not per keystroke), so each search
 * is one history entry and one request to the server.
 */
export function TableSearch(props: {
  label: string;
  query: TableQuery;
  name?: string;
  placeholder?: string;
}) {
  const name = props.name ?? 'q';
  const current = props.query.get(name);
  const [text, setText] = useState(current);
  const [shown, setShown] = useState(current);
  // Back or a link changed the address: the box follows it.
  if (shown !== current) {
    setShown(current);
    setText(current);
  }
  const id = useId();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    props.query.set({ [name]: text.trim() });
  };
  return (
    <form role="search" className="inline-form" onSubmit={submit}>
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        type="search"
        value={text}
        placeholder={props.placeholder}
        onChange={(event) => setText(event.target.value)}
      />
      <button type="submit" className="secondary">
        Search
      </button>
    </form>
  );
}

/** A filter of the list as a labelled select bound to a query parameter. */
export function TableChoice(props: {
  label: string;
  name: string;
  choices: readonly { value: string; label: string }[];
  query: TableQuery;
}) {
  const id = useId();
  return (
    <div className="inline-form">
      <label htmlFor={id}>{props.label}</label>
      <select
        id={id}
        value={props.query.get(props.name)}
        onChange={(event) => props.query.set({ [props.name]: event.target.value })}
      >
        {props.choices.map((choice) => (
          <option key={choice.value} value={choice.value}>
            {choice.label}
          </option>
        ))}
      </select>
    </div>
  );
}
