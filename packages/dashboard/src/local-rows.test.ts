import { describe, expect, it } from 'vitest';
import type { Column } from './components/data-table.js';
import { localRows } from './local-rows.js';
import { parseSort } from './use-table-query.js';

interface Hold {
  name: string;
  subjects: number;
}
const columns: Column<Hold>[] = [
  { key: 'name', header: 'Name', cell: (hold) => hold.name, value: (hold) => hold.name },
  { key: 'subjects', header: 'Subjects', cell: (hold) => hold.subjects, value: (hold) => hold.subjects },
];
const holds: Hold[] = Array.from({ length: 30 }, (_, index) => ({
  name: `hold-${index}`,
  subjects: index % 7,
}));
const query = (q: string, sort: string, page = 1, pageSize = 25) => ({
  get: (name: string) => (name === 'q' ? q : ''),
  sort: parseSort(sort),
  offset: (page - 1) * pageSize,
  pageSize,
});

describe('localRows', () => {
  it('searches case-insensitively in the columns with a value', () => {
    expect(localRows(holds, columns, query('HOLD-2', '')).rows.map((hold) => hold.name)).toEqual([
      'hold-2',
      'hold-20',
      'hold-21',
      'hold-22',
      'hold-23',
      'hold-24',
      'hold-25',
      'hold-26',
      'hold-27',
      'hold-28',
      'hold-29',
    ]);
  });

  it('sorts numbers as numbers, either way, and pages', () => {
    const up = localRows(holds, columns, query('', 'subjects', 1, 25));
    expect(up.total).toBe(30);
    expect(up.rows).toHaveLength(25);
    expect(up.rows[0]?.subjects).toBe(0);
    const down = localRows(holds, columns, query('', '-subjects', 2, 25));
    expect(down.rows).toHaveLength(5);
    expect(down.rows.every((hold) => hold.subjects === 0)).toBe(true);
  });
});
