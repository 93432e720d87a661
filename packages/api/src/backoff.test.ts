import { describe, expect, it } from 'vitest';
import { backoffDelay, type Backoff } from './backoff.js';

describe('backoffDelay', () => {
  const equal: Backoff = { baseMs: 1_000, maxMs: 60_000, jitter: 'equal' };
  const full: Backoff = { ...equal, jitter: 'full' };

  it('with equal jitter, doubles per attempt between half and all of the ceiling, never past the maximum', () => {
    expect(backoffDelay(1, equal, () => 0)).toBe(500);
    expect(backoffDelay(1, equal, () => 1)).toBe(1_000);
    expect(backoffDelay(3, equal, () => 1)).toBe(4_000);
    expect(backoffDelay(3, equal, () => 0)).toBe(2_000);
    expect(backoffDelay(30, equal, () => 1)).toBe(60_000);
  });

  it('with full jitter, waits anywhere from nothing to the ceiling', () => {
    expect(backoffDelay(1, full, () => 0)).toBe(0);
    expect(backoffDelay(2, full, () => 0.5)).toBe(1_000);
    expect(backoffDelay(30, full, () => 1)).toBe(60_000);
  });
});
