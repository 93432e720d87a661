import type { ExpiryDay } from '@lethe/api';

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const monthName = new Intl.DateTimeFormat('en', { month: 'long', year: 'numeric', timeZone: 'UTC' });
const weekdayName = new Intl.DateTimeFormat('en', { weekday: 'long', timeZone: 'UTC' });

/**
 * The next days as a month calendar (weekday columns, a heading per month) with how many fields
 * expire on each; a day is a button that shows that day. A button's name is its own text plus
 * words for screen readers around it, so the visible date and count are part of the name.
 */
export function DayGrid(props: {
  days: readonly ExpiryDay[];
  selected: string | undefined;
  onPick: (day: string) => void;
}) {
  const months = new Map<string, ExpiryDay[]>();
  for (const day of props.days) {
    const month = day.day.slice(0, 7);
    months.set(month, [...(months.get(month) ?? []), day]);
  }
  return (
    <details className="day-grid-box">
      <summary>Pick a day (next {props.days.length} days, fields expiring)</summary>
      {[...months].map(([month, days]) => (
        <section key={month} aria-label={monthName.format(Date.parse(days[0]!.day))}>
          <h3 className="day-grid-month">{monthName.format(Date.parse(days[0]!.day))}</h3>
          <div className="day-grid day-grid-weekdays" aria-hidden="true">
            {WEEKDAYS.map((weekday) => (
              <span key={weekday}>{weekday}</span>
            ))}
          </div>
          <ol className="day-grid">
            {days.map((day, index) => {
              const date = new Date(Date.parse(day.day));
              // Monday first: a month's first day shown starts in its weekday's column (styles.css).
              const column = ((date.getUTCDay() + 6) % 7) + 1;
              return (
                <li key={day.day} data-column={index === 0 ? column : undefined}>
                  <button
                    type="button"
                    data-day={day.day}
                    className={day.fields > 0 ? 'busy' : ''}
                    aria-pressed={props.selected === day.day}
                    onClick={() => props.onPick(day.day)}
                  >
                    <span className="visually-hidden">{weekdayName.format(date)} </span>
                    <span className="date">{date.getUTCDate()}</span>
                    <span className="visually-hidden"> {monthName.format(date)}: </span>
                    <span className="n">{day.fields}</span>
                    <span className="visually-hidden"> fields expire</span>
                  </button>
                </li>
              );
            })}
          </ol>
        </section>
      ))}
    </details>
  );
}
