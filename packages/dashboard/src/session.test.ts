import { describe, expect, it } from 'vitest';
import { isSession, sessionFromToken } from './session.js';

const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const token = (claims: object) => `${part({ alg: 'EdDSA', typ: 'JWT' })}.${part(claims)}.c2ln`;
const NOW = Date.parse('2026-01-01T00:00:00Z');

describe('sessionFromToken', () => {
  it('reads role, subject, categories and expiry from the claims (base64url, UTF-8)', () => {
    const session = sessionFromToken(
      ` ${token({ sub: 'Dörte', role: 'dpo', categories: ['user.contact'], exp: NOW / 1000 + 3600 })}\n`,
      NOW,
    );
    expect(isSession(session)).toBe(true);
    expect(session).toMatchObject({ subject: 'Dörte', role: 'dpo', categories: ['user.contact'] });
    if (isSession(session)) {
      expect(session.expiresAt.getTime()).toBe(NOW + 3_600_000);
      expect(session.token).not.toMatch(/\s/);
    }
  });

  it('says why a text is not a usable token', () => {
    expect(sessionFromToken('hello', NOW)).toEqual({ problem: expect.stringContaining('three parts') });
    expect(sessionFromToken('a.%%%.c', NOW)).toEqual({ problem: expect.stringContaining('cannot be read') });
    expect(sessionFromToken(token({ sub: 'x' }), NOW)).toEqual({
      problem: expect.stringContaining('no role'),
    });
    expect(sessionFromToken(token({ role: 'dpo', exp: NOW / 1000 - 1 }), NOW)).toEqual({
      problem: expect.stringContaining('expired'),
    });
  });
});
