import type { RightsRequest } from '@lethe/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_REQUEST_SETTINGS } from '../src/requests/request-settings.js';
import { createLethe, type Lethe } from '../src/server.js';
import { SQLITE_BACKEND } from './support/backends.js';

/**
 * Intake of rights requests over the API: validation, duplicates, deadlines and their extension,
 * the steps people take, the CSV import. Verification and approval are required here, so nothing
 * runs: each request stays where the test puts it.
 */

let lethe: Lethe;
let dispose: () => Promise<void>;
let dpo: string;
let auditor: string;

beforeAll(async () => {
  const location = await SQLITE_BACKEND.create({ migrated: true });
  dispose = location.dispose;
  lethe = await createLethe({
    ...location,
    rateLimit: false,
    requestSettings: {
      ...DEFAULT_REQUEST_SETTINGS,
      requireVerification: true,
      requireApproval: true,
      defaultCountry: 'GB',
    },
  });
  dpo = (await lethe.tokens.mint({ subject: 'dpo-dana', role: 'dpo', ttlSeconds: 600 })).token;
  auditor = (await lethe.tokens.mint({ subject: 'auditor-al', role: 'auditor', ttlSeconds: 600 })).token;
});

afterAll(async () => {
  await lethe.close();
  await dispose();
});

function send(
  method: string,
  url: string,
  payload?: unknown,
  options: { token?: string; type?: string } = {},
) {
  return lethe.app.inject({
    method: method as 'GET',
    url,
    headers: {
      authorization: `Bearer ${options.token ?? dpo}`,
      ...(options.type ? { 'content-type': options.type } : {}),
    },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
}

async function create(body: object): Promise<RightsRequest> {
  const response = await send('POST', '/v1/requests', body);
  expect(response.statusCode, response.body).toBe(201);
  return response.json<RightsRequest>();
}

describe('intake', () => {
  it('normalises identifiers, seals them, and shows them to a DPO only', async () => {
    const request = await create({
      id: 'in-1',
      type: 'delete',
      identifiers: { email: '  Jane.Doe@Example.COM ', phone: '020 7946 0958', customKey: 'AbC-1' },
    });
    expect(request).toMatchObject({
      status: 'received',
      strategy: 'exact',
      jurisdiction: 'gdpr',
      identifiers: { email: 'jane.doe@example.com', phone: '+442079460958', customKey: 'AbC-1' },
      identifierKinds: ['email', 'phone', 'custom-key'],
      verification: { required: true },
      approval: { required: true },
      pii: { held: true },
    });
    expect(request.masked).not.toContain('jane.doe');
    const seen = (
      await send('GET', '/v1/requests/in-1', undefined, { token: auditor })
    ).json<RightsRequest>();
    expect(seen.identifiers).toBeUndefined();
    expect(seen.masked).toBe(request.masked);
  });

  it('refuses bad identifiers with the field that is wrong, and a request without any', async () => {
    const badEmail = await send('POST', '/v1/requests', {
      type: 'dsar',
      identifiers: { email: 'not-an-email' },
    });
    expect(badEmail.statusCode).toBe(400);
    expect(badEmail.json().error).toMatchObject({
      code: 'INVALID_IDENTIFIER',
      details: { field: 'identifiers.email' },
    });
    const badPhone = await send('POST', '/v1/requests', { type: 'dsar', identifiers: { phone: '12' } });
    expect(badPhone.json().error.code).toBe('INVALID_IDENTIFIER');
    const none = await send('POST', '/v1/requests', { type: 'dsar', identifiers: {} });
    expect(none.statusCode).toBe(400);
    expect(none.json().error.code).toBe('IDENTIFIER_MISSING');
    const badType = await send('POST', '/v1/requests', { type: 'forget', identifiers: { email: 'a@b.co' } });
    expect(badType.json().error.code).toBe('VALIDATION_FAILED');
  });

  it('keeps the data categories of a delete_pii, and refuses unknown ones or categories on another type', async () => {
    const request = await create({
      id: 'in-categories',
      type: 'delete_pii',
      identifiers: { email: 'cat@example.com' },
      categories: ['user.contact'],
    });
    expect(request.categories).toEqual(['user.contact']);
    const unknown = await send('POST', '/v1/requests', {
      type: 'delete_pii',
      identifiers: { email: 'cat2@example.com' },
      categories: ['user.contact', 'user.contacts'],
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error).toMatchObject({
      code: 'INVALID_ERASURE_CATEGORY',
      details: { field: 'categories[1]' },
    });
    const onDelete = await send('POST', '/v1/requests', {
      type: 'delete',
      identifiers: { email: 'cat3@example.com' },
      categories: ['user.contact'],
    });
    expect(onDelete.statusCode).toBe(400);
    expect(onDelete.json().error.code).toBe('INVALID_ERASURE_CATEGORY');
  });

  it('refuses a second open request of the same type for the same person, and a reused id', async () => {
    await create({ id: 'dup-1', type: 'dsar', identifiers: { email: 'sam@example.com' } });
    const again = await send('POST', '/v1/requests', {
      type: 'dsar',
      identifiers: { email: 'SAM@example.com' },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({ code: 'DUPLICATE_REQUEST', details: { requestId: 'dup-1' } });
    // Another type for the same person is another request.
    await create({ type: 'delete', identifiers: { email: 'sam@example.com' } });
    const sameId = await send('POST', '/v1/requests', {
      id: 'dup-1',
      type: 'dsar',
      identifiers: { email: 'x@example.com' },
    });
    expect(sameId.json().error.code).toBe('REQUEST_EXISTS');
    // Once the first is canceled, the person may ask again.
    await send('POST', '/v1/requests/dup-1/cancel', { reason: 'asked twice' });
    await create({ type: 'dsar', identifiers: { email: 'sam@example.com' } });
  });
});

describe('deadlines', () => {
  it('gives each jurisdiction its due date, and flags the overdue', async () => {
    const gdpr = await create({
      type: 'dsar',
      identifiers: { email: 'g@example.com' },
      receivedAt: '2026-01-31T09:00:00Z',
    });
    expect(gdpr.dueAt).toBe('2026-02-28T09:00:00.000Z');
    expect(gdpr.overdue).toBe(true);
    expect(gdpr.daysLeft).toBeLessThan(0);
    const ccpa = await create({
      type: 'dsar',
      identifiers: { email: 'c@example.com' },
      jurisdiction: 'ccpa',
      receivedAt: '2026-11-20T12:00:00Z',
    });
    expect(ccpa.dueAt).toBe('2027-01-04T12:00:00.000Z');
    // Friday + 10 business days = the Friday two weeks on.
    expect(ccpa.receipt.dueAt).toBe('2026-12-04T12:00:00.000Z');
    const overdue = await send('GET', '/v1/requests?overdue=true');
    expect((overdue.json().items as RightsRequest[]).map((r) => r.id)).toContain(gdpr.id);
    expect((overdue.json().items as RightsRequest[]).map((r) => r.id)).not.toContain(ccpa.id);
    // A finished request is never overdue; an unknown status is a 400, not a crash.
    expect((await send('GET', '/v1/requests?overdue=true&status=completed')).json()).toEqual({
      items: [],
      total: 0,
    });
    expect((await send('GET', '/v1/requests?status=lost')).json().error.code).toBe('VALIDATION_FAILED');
  });

  it('extends once, with the reason kept, and not where the law allows none', async () => {
    const gdpr = await create({
      type: 'dsar',
      identifiers: { email: 'e@example.com' },
      receivedAt: '2026-03-10T00:00:00Z',
    });
    const extended = await send('POST', `/v1/requests/${gdpr.id}/extend`, { reason: 'many systems' });
    expect(extended.json()).toMatchObject({
      dueAt: '2026-06-10T00:00:00.000Z',
      extension: { by: 'dpo:dpo-dana', reason: 'many systems' },
    });
    const twice = await send('POST', `/v1/requests/${gdpr.id}/extend`, { reason: 'again' });
    expect(twice.statusCode).toBe(409);
    expect(twice.json().error.code).toBe('NO_EXTENSION');
    const lgpd = await create({
      type: 'dsar',
      identifiers: { email: 'l@example.com' },
      jurisdiction: 'lgpd',
    });
    expect((await send('POST', `/v1/requests/${lgpd.id}/extend`, { reason: 'x' })).json().error.code).toBe(
      'NO_EXTENSION',
    );
  });
});

describe('the steps people take', () => {
  it('records who verified and approved, refuses steps out of order, and destroys the identifiers on denial', async () => {
    const request = await create({ id: 'steps-1', type: 'dsar', identifiers: { email: 'v@example.com' } });
    const early = await send('POST', `/v1/requests/${request.id}/approve`);
    expect(early.statusCode).toBe(409);
    expect(early.json().error.code).toBe('REQUEST_STATE_CONFLICT');
    const verified = await send('POST', `/v1/requests/${request.id}/verify-identity`, {
      method: 'email link',
    });
    expect(verified.json()).toMatchObject({
      status: 'identity_verified',
      verification: { by: 'dpo:dpo-dana', method: 'email link' },
    });
    const denied = await send('POST', `/v1/requests/${request.id}/deny`, {
      reason: 'not the account holder',
    });
    expect(denied.json()).toMatchObject({
      status: 'denied',
      statusReason: 'not the account holder',
      pii: { held: false },
    });
    expect(denied.json().identifiers).toBeUndefined();
    expect((await send('POST', `/v1/requests/${request.id}/cancel`, { reason: 'x' })).statusCode).toBe(409);
    const trail = await lethe.app.inject({
      method: 'GET',
      url: '/v1/audit?limit=500',
      headers: {
        authorization: `Bearer ${(await lethe.tokens.mint({ subject: 'a', role: 'admin', ttlSeconds: 60 })).token}`,
      },
    });
    const actions = (trail.json().items as { action: string; target: string }[])
      .filter((entry) => entry.target === 'request:steps-1')
      .map((entry) => entry.action);
    expect(actions).toEqual(['request.create', 'request.verify', 'request.deny']);
  });
});

describe('recovery', () => {
  it('starts a request left approved without tasks (a crash between approval and planning)', async () => {
    const request = await create({
      id: 'stuck-1',
      type: 'dsar',
      identifiers: { email: 'stuck@example.com' },
    });
    // As a crash would leave it: approved, never planned, a while ago.
    await lethe.services.store.transaction((repository) =>
      repository.requests.updateRequest(request.id, { status: 'approved', updated_at: 0 }),
    );
    await lethe.services.requests.startInterrupted();
    const started = (await send('GET', '/v1/requests/stuck-1')).json<RightsRequest>();
    expect(started.status).not.toBe('approved');
    expect(started.startedAt).toBeDefined();
  });
});

describe('CSV import', () => {
  it('creates a request per good row and reports each bad row by line and code', async () => {
    const csv = [
      'id,type,strategy,email,phone,custom_key',
      'csv-1,dsar,exact,one@example.com,,',
      'csv-2,delete,connected_pii,two@example.com,,',
      'csv-3,forget,exact,three@example.com,,',
      'csv-4,dsar,exact,not-an-email,,',
      'csv-5,dsar,exact,,,',
      '"csv-6",delete_pii,exact,"six@example.com",,"K,6"',
    ].join('\n');
    const response = await send('POST', '/v1/requests/import', csv, { type: 'text/csv' });
    expect(response.statusCode, response.body).toBe(200);
    const result = response.json<{
      created: { line: number; id: string }[];
      rejected: { line: number; code: string }[];
    }>();
    expect(result.created.map((row) => [row.line, row.id])).toEqual([
      [2, 'csv-1'],
      [3, 'csv-2'],
      [7, 'csv-6'],
    ]);
    expect(result.rejected.map((row) => [row.line, row.code])).toEqual([
      [4, 'INVALID_REQUEST_TYPE'],
      [5, 'INVALID_IDENTIFIER'],
      [6, 'IDENTIFIER_MISSING'],
    ]);
    const two = (await send('GET', '/v1/requests/csv-2')).json<RightsRequest>();
    expect(two).toMatchObject({ type: 'delete', strategy: 'connected', source: 'csv' });
    const six = (await send('GET', '/v1/requests/csv-6')).json<RightsRequest>();
    expect(six.identifiers).toMatchObject({ email: 'six@example.com', customKey: 'K,6' });
  });

  it('refuses a file it cannot read, naming the line', async () => {
    const unknown = await send('POST', '/v1/requests/import', 'id,type,shoe_size\n1,dsar,42\n', {
      type: 'text/csv',
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.code).toBe('CSV_INVALID');
    const open = await send('POST', '/v1/requests/import', 'type,email\ndsar,"a@b.co\n', {
      type: 'text/csv',
    });
    expect(open.json().error).toMatchObject({ code: 'CSV_INVALID', details: { line: 2 } });
  });
});
