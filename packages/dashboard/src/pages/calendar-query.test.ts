import { describe, expect, it } from 'vitest';
import { calendarPath, calendarQuery, EARLIEST_DAY, feedFrom, withPreset } from './calendar-query.js';

const TODAY = '2026-12-07';
const parse = (search: string) => calendarQuery(new URLSearchParams(search), TODAY);
const roundTrip = (search: string) => {
  const query = parse(search);
  return parse(calendarPath(query).split('?')[1] ?? '');
};

describe('the calendar query in the address', () => {
  it('opens on the next 7 days with overdue included', () => {
    const query = parse('');
    expect(query).toMatchObject({ preset: '7d', from: TODAY, to: '2026-12-13', withOverdue: true });
    expect(feedFrom(query)).toBe(EARLIEST_DAY);
  });

  it('reads presets, fixed ranges and the other filters, and writes them back the same', () => {
    for (const search of [
      'preset=overdue',
      'preset=today&system=billing',
      'preset=30d&level=subject&overdue=hide',
      'from=2026-01-01&to=2026-01-31&system=crm',
    ]) {
      expect(calendarPath(parse(search))).toBe(`/calendar?${search}`);
      expect(roundTrip(search)).toEqual(parse(search));
    }
    expect(parse('preset=30d&overdue=hide')).toMatchObject({ to: '2027-01-05', withOverdue: false });
    expect(parse('from=2026-01-01&to=2026-01-31')).toMatchObject({ preset: undefined, withOverdue: false });
  });

  it('takes the default for what it cannot read', () => {
    expect(parse('preset=yesterday').preset).toBe('7d');
    expect(parse('from=2026-02-10&to=2026-02-01').preset).toBe('7d');
    expect(parse('from=soon&to=later').preset).toBe('7d');
    // The due list is per field only.
    expect(parse('preset=overdue&level=subject').level).toBe('field');
  });

  it('switches presets keeping the system, overdue included unless hidden on a range', () => {
    const fromOverdue = withPreset(parse('preset=overdue&system=crm'), '30d', TODAY);
    expect(calendarPath(fromOverdue)).toBe('/calendar?preset=30d&system=crm');
    const hidden = withPreset(parse('preset=7d&overdue=hide&level=subject'), 'today', TODAY);
    expect(calendarPath(hidden)).toBe('/calendar?preset=today&level=subject&overdue=hide');
    expect(calendarPath(withPreset(hidden, 'overdue', TODAY))).toBe('/calendar?preset=overdue');
  });
});
