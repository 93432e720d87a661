import { describe, expect, it } from 'vitest';
import { addDuration, parseDuration, subtractDuration } from './duration.js';

const at = (iso: string) => Date.parse(iso);
const plus = (iso: string, duration: string) => {
  const parsed = parseDuration(duration);
  if (!parsed) throw new Error(`bad duration ${duration}`);
  return new Date(addDuration(at(iso), parsed)).toISOString();
};

describe('parseDuration', () => {
  it.each(['P2Y', 'P6M', 'P120D', 'PT36H', 'P1Y2M3DT4H5M6S', 'P2W', 'P0D'])('accepts %s', (text) => {
    expect(parseDuration(text)).toBeDefined();
  });

  it.each(['', 'P', 'PT', 'P1YT', '2Y', 'P1.5Y', 'P-1D', 'p1y', 'P1H', 'PT1D', 'P1Y1Y', ' P1Y', 'P999999Y'])(
    'rejects %j',
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );
});

describe('addDuration', () => {
  it('clamps to the end of a shorter month', () => {
    expect(plus('2023-01-31T00:00:00Z', 'P1M')).toBe('2023-02-28T00:00:00.000Z');
    expect(plus('2024-01-31T00:00:00Z', 'P1M')).toBe('2024-02-29T00:00:00.000Z');
    expect(plus('2024-03-31T12:30:00Z', 'P1M')).toBe('2024-04-30T12:30:00.000Z');
  });

  it('handles leap years', () => {
    expect(plus('2024-02-29T00:00:00Z', 'P1Y')).toBe('2025-02-28T00:00:00.000Z');
    expect(plus('2024-02-29T00:00:00Z', 'P4Y')).toBe('2028-02-29T00:00:00.000Z');
    expect(plus('2023-02-28T00:00:00Z', 'P366D')).toBe('2024-02-29T00:00:00.000Z');
  });

  it('follows the design examples', () => {
    expect(plus('2023-01-05T10:00:00Z', 'P2Y')).toBe('2025-01-05T10:00:00.000Z');
    expect(plus('2023-01-05T10:00:00Z', 'P120D')).toBe('2023-05-05T10:00:00.000Z');
  });

  it('crosses year boundaries with months', () => {
    expect(plus('2023-11-30T00:00:00Z', 'P3M')).toBe('2024-02-29T00:00:00.000Z');
    expect(plus('2023-12-15T00:00:00Z', 'P1Y13M')).toBe('2026-01-15T00:00:00.000Z');
  });

  it('adds the time part as elapsed time after the date part', () => {
    expect(plus('2023-01-31T20:00:00Z', 'P1MT36H')).toBe('2023-03-02T08:00:00.000Z');
    expect(plus('2023-01-01T00:00:00Z', 'PT90M30S')).toBe('2023-01-01T01:30:30.000Z');
  });
});

describe('subtractDuration', () => {
  const at = (iso: string) => Date.parse(iso);
  it('runs the calendar arithmetic backwards, clamping to the end of the month', () => {
    expect(subtractDuration(at('2024-03-31T10:00:00Z'), parseDuration('P1M')!)).toBe(
      at('2024-02-29T10:00:00Z'),
    );
    expect(subtractDuration(at('2025-01-05T00:00:00Z'), parseDuration('P2Y')!)).toBe(
      at('2023-01-05T00:00:00Z'),
    );
    expect(subtractDuration(at('2024-01-01T06:00:00Z'), parseDuration('PT12H')!)).toBe(
      at('2023-12-31T18:00:00Z'),
    );
  });
});
