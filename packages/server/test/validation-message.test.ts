import { afterEach, describe, expect, it } from 'vitest';
import { admin, closeStarted, start } from './support/clocked-lethe.js';

/**
 * A value outside a set of literals is refused naming the values allowed (issue 20): Ajv's own
 * words were "must be equal to constant" once per literal, which named none of them.
 */
afterEach(closeStarted);

describe('VALIDATION_FAILED for a value outside a set of literals', () => {
  it('names the allowed values once, in the message and the details', async () => {
    const { lethe } = await start();
    const token = await admin(lethe);
    const post = (payload: object) =>
      lethe.app.inject({
        method: 'POST',
        url: '/v1/requests',
        headers: { authorization: `Bearer ${token}` },
        payload,
      });
    const type = await post({ type: 'erase', identifiers: { email: 'a@b.co' } });
    expect(type.statusCode).toBe(400);
    expect(type.json()).toMatchObject({
      error: {
        code: 'VALIDATION_FAILED',
        message: 'body/type must be one of dsar, delete, delete_pii',
        details: [{ path: '/type', message: 'must be one of dsar, delete, delete_pii' }],
      },
    });
    const law = await post({ type: 'dsar', jurisdiction: 'eu', identifiers: { email: 'a@b.co' } });
    expect(law.json<{ error: { message: string } }>().error.message).toBe(
      'body/jurisdiction must be one of gdpr, ccpa, pipeda, lgpd, app',
    );
    // Other issues keep their words (and the unknown property its name).
    const extra = await post({ type: 'dsar', identifiers: { email: 'a@b.co' }, colour: 'red' });
    expect(extra.json()).toMatchObject({
      error: { code: 'VALIDATION_FAILED', details: [{ path: '', property: 'colour' }] },
    });
  });

  it('names them for a query parameter too', async () => {
    const { lethe } = await start();
    const response = await lethe.app.inject({
      method: 'GET',
      url: '/v1/expiries?day=2025-01-05&level=team',
      headers: { authorization: `Bearer ${await admin(lethe)}` },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json<{ error: { message: string } }>().error.message).toBe(
      'querystring/level must be one of field, subject',
    );
  });
});
