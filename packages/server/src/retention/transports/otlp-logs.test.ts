import { describe, expect, it } from 'vitest';
import { NotOtlpLogs, usageEventsOfLogs } from './otlp-logs.js';

const str = (key: string, value: string) => ({ key, value: { stringValue: value } });

function request(records: object[], resource: object[] = []) {
  return { resourceLogs: [{ resource: { attributes: resource }, scopeLogs: [{ logRecords: records }] }] };
}

describe('OTLP log records to usage events', () => {
  it('reads the privacy attributes, the system from the resource, fields from a comma list', () => {
    const mapped = usageEventsOfLogs(
      request(
        [
          {
            timeUnixNano: '1767225600000000000',
            body: { stringValue: 'jane@mail.example' },
            attributes: [
              { key: 'privacy.subject', value: { intValue: '42' } },
              str('privacy.policy', 'p'),
              str('privacy.fields', ' a.b, a.c ,'),
              str('user.email', 'jane@mail.example'),
            ],
          },
        ],
        [str('privacy.system', 'accounts'), str('service.name', 'x')],
      ),
    );
    expect(mapped).toMatchObject({ records: 1, ignored: 0, refused: [], recordOf: [0] });
    const [event] = mapped.events;
    expect(event).toEqual({
      subject: '42',
      system: 'accounts',
      policy: 'p',
      fields: ['a.b', 'a.c'],
      at: '2026-01-01T00:00:00.000Z',
      id: expect.stringMatching(/^otlp:/),
    });
  });

  it('derives the same id for the same use, another for another instant; takes privacy.event_id as given', () => {
    const use = (nanos: string, extra: object[] = []) => ({
      timeUnixNano: nanos,
      attributes: [
        str('privacy.subject', 's'),
        str('privacy.system', 'y'),
        str('privacy.policy', 'p'),
        ...extra,
      ],
    });
    const ids = usageEventsOfLogs(
      request([
        use('1000000'),
        use('1000000'),
        use('1000001'),
        use('1000000', [str('privacy.event_id', 'e-1')]),
      ]),
    ).events.map((event) => event['id']);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[0]);
    expect(ids[3]).toBe('e-1');
  });

  it('ignores records without privacy attributes, refuses a record without a time, by its index', () => {
    const mapped = usageEventsOfLogs({
      resourceLogs: [
        { scopeLogs: [{ logRecords: [{ timeUnixNano: '5', attributes: [str('http.route', '/')] }] }] },
        {
          scopeLogs: [
            { logRecords: [] },
            { logRecords: [{ timeUnixNano: '0', attributes: [str('privacy.subject', 's')] }] },
            { logRecords: [{ observedTimeUnixNano: 2e6, attributes: [str('privacy.subject', 't')] }] },
          ],
        },
      ],
    });
    expect(mapped.records).toBe(3);
    expect(mapped.ignored).toBe(1);
    expect(mapped.refused).toEqual([{ index: 1, code: 'INVALID_TIME', message: expect.any(String) }]);
    expect(mapped.recordOf).toEqual([2]);
    expect(mapped.events[0]).toMatchObject({ subject: 't', at: '1970-01-01T00:00:00.002Z' });
  });

  it('refuses a body that is not a logs request', () => {
    expect(() => usageEventsOfLogs({ resourceLogs: {} })).toThrow(NotOtlpLogs);
    expect(usageEventsOfLogs({}).records).toBe(0);
  });
});
