import { describe, expect, it } from 'vitest';
import { consentStands, consentWindow, isConsentedUse, NO_CONSENT } from './consent.js';

let seq = 0;
const change = (granted: boolean, at: number, recordedAt = 1_000) => ({
  granted,
  at,
  recordedAt,
  seq: seq++,
});
const grant = (at: number, recordedAt?: number) => change(true, at, recordedAt);
const withdraw = (at: number, recordedAt?: number) => change(false, at, recordedAt);

describe('consentWindow', () => {
  it('is empty without history', () => {
    expect(consentWindow([])).toEqual(NO_CONSENT);
    expect(consentStands(NO_CONSENT)).toBe(false);
  });

  it('opens at the grant and closes at the withdrawal', () => {
    expect(consentWindow([grant(10)])).toEqual({ grantedAt: 10, withdrawnAt: null });
    expect(consentWindow([grant(10), withdraw(20)])).toEqual({ grantedAt: 10, withdrawnAt: 20 });
  });

  it('does not restart the interval on a repeated grant, nor move the end on a repeated withdrawal', () => {
    expect(consentWindow([grant(10), grant(15)])).toEqual({ grantedAt: 10, withdrawnAt: null });
    expect(consentWindow([grant(10), withdraw(20), withdraw(25)])).toEqual({
      grantedAt: 10,
      withdrawnAt: 20,
    });
  });

  it('knows only the latest interval after a re-grant', () => {
    expect(consentWindow([grant(10), withdraw(20), grant(30)])).toEqual({ grantedAt: 30, withdrawnAt: null });
  });

  it('orders by the time consent was given, so a late-recorded old event does not roll the state back', () => {
    // Withdrawn at 20, recorded first; a grant from 10 is recorded later.
    expect(consentWindow([withdraw(20, 1), grant(10, 2)])).toEqual({ grantedAt: 10, withdrawnAt: 20 });
    // Same `at`: the later recording counts last.
    expect(consentWindow([grant(10, 1), withdraw(10, 2)])).toEqual({ grantedAt: 10, withdrawnAt: 10 });
  });

  it('keeps a withdrawal without any grant as a window that consents nothing', () => {
    const window = consentWindow([withdraw(5)]);
    expect(window).toEqual({ grantedAt: null, withdrawnAt: 5 });
    expect(isConsentedUse(window, 1)).toBe(false);
    expect(isConsentedUse(window, 9)).toBe(false);
  });
});

describe('isConsentedUse', () => {
  const window = { grantedAt: 10, withdrawnAt: 20 };
  it('holds from the grant (inclusive) to the withdrawal (exclusive)', () => {
    expect([9, 10, 19, 20].map((at) => isConsentedUse(window, at))).toEqual([false, true, true, false]);
    expect(isConsentedUse({ grantedAt: 10, withdrawnAt: null }, 1e15)).toBe(true);
  });
});
