import type { ExpiryDay } from '@lethe/api';
import { DataTable, type Column } from './data-table.js';

const WIDTH = 900;
const HEIGHT = 180;
const AXIS = 24;

/** The chart's numbers, day by day as drawn: a plain table, neither sorted nor paged. */
const DAY_COLUMNS: readonly Column<ExpiryDay>[] = [
  { key: 'day', header: 'Day', cell: (day) => day.day },
  { key: 'fields', header: 'Fields expiring', cell: (day) => day.fields, className: 'number' },
  { key: 'subjects', header: 'People expiring entirely', cell: (day) => day.subjects, className: 'number' },
];

/**
 * Subject fields expiring per day as bars, drawn by hand in SVG (no chart library for one chart).
 * The numbers are also in a table below it, for screen readers and for reading exact values.
 */
export function ExpiryChart({ days }: { days: readonly ExpiryDay[] }) {
  const busiest = Math.max(0, ...days.map((day) => day.fields));
  const scale = Math.max(1, busiest);
  const total = days.reduce((sum, day) => sum + day.fields, 0);
  const people = days.reduce((sum, day) => sum + day.subjects, 0);
  const barWidth = WIDTH / Math.max(1, days.length);
  const first = days[0]?.day ?? '';
  const last = days.at(-1)?.day ?? '';
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT + AXIS}`}
        role="img"
        aria-label={`${total} subject fields expire between ${first} and ${last}; the busiest day has ${busiest}.`}
        preserveAspectRatio="none"
      >
        {days.map((day, index) => {
          const height = (day.fields / scale) * HEIGHT;
          return (
            <rect
              key={day.day}
              className="bar"
              x={index * barWidth + 1}
              y={HEIGHT - height}
              width={Math.max(1, barWidth - 2)}
              height={height}
            >
              <title>{`${day.day}: ${day.fields} field${day.fields === 1 ? '' : 's'}, ${day.subjects} whole subject${day.subjects === 1 ? '' : 's'}`}</title>
            </rect>
          );
        })}
        <line className="axis" x1={0} x2={WIDTH} y1={HEIGHT} y2={HEIGHT} />
        <text className="tick" x={0} y={HEIGHT + 16}>
          {first}
        </text>
        <text className="tick" x={WIDTH} y={HEIGHT + 16} textAnchor="end">
          {last}
        </text>
      </svg>
      <figcaption>
        Subject fields (one person’s one field) expiring each day, next {days.length} days (UTC). Busiest day:{' '}
        {busiest} · total {total} · people whose data expires entirely: {people}.
      </figcaption>
      <details>
        <summary>The numbers per day</summary>
        <DataTable
          label="Expiries per day"
          columns={DAY_COLUMNS}
          rows={days.filter((day) => day.fields > 0 || day.subjects > 0)}
          rowKey={(day) => day.day}
          empty="Nothing expires."
        />
      </details>
    </figure>
  );
}
