import type { DataContractInput, StreamIngestResult } from '@lethe/api';
import { afterEach, beforeEach, expect } from 'vitest';
import { MasterKey } from '../../src/auth/master-key.js';
import { createLethe, type Lethe } from '../../src/server.js';
import type { StreamPage } from '../../src/streams/stream-log.js';
import { availableBackends, type Backend } from './backends.js';

/**
 * The privacy-stream tests' Lethe: a fresh one per test on each backend, with a master key, tokens
 * for an admin, a DPO and the shop's service, the clickstream contract and its events.
 *
 * A test file calls `openStreamsLethe(backend)` in its `describe.each(ALL_BACKENDS)`; its hooks set
 * `lethe`, `masterKey` and `tokens`, which the tests read as live bindings of this module.
 */

const available = await availableBackends();
export const DAY = 86_400_000;
/**
 * Events of yesterday and of today: two rotation periods (keys rotate daily, at 00:00 UTC). Today's
 * time lies an hour into the day, or halfway to now in the first hour: never in the future, which
 * ingest refuses (the suite failed between 00:00 and 01:00 UTC when it was always 01:00).
 */
const START_OF_TODAY = Math.floor(Date.now() / DAY) * DAY;
export const TODAY = new Date(
  START_OF_TODAY + Math.min(3_600_000, (Date.now() - START_OF_TODAY) / 2),
).toISOString();
export const YESTERDAY = new Date(Date.parse(TODAY) - DAY).toISOString();

export const CLICKSTREAM: DataContractInput = {
  version: 1,
  description: 'Page views of the shop.',
  schema: {
    type: 'object',
    required: ['sessionId', 'customerId', 'url'],
    properties: {
      sessionId: { type: 'string' },
      customerId: { type: 'string' },
      url: { type: 'string' },
      email: { type: 'string' },
      address: { type: 'object', properties: { city: { type: 'string' } } },
      items: { type: 'integer' },
    },
  },
  keyLink: 'sessionId',
  subject: 'customerId',
  personal: [
    { attribute: 'customerId', purposes: ['essential.orders'] },
    { attribute: 'email', purposes: ['marketing.email'] },
    { attribute: 'address.city', purposes: ['analytics'] },
  ],
  rules: [{ attribute: 'url', pattern: '^https://' }],
};

let serial = 0;
export function click(
  customer: string,
  options: { consent?: string[]; at?: string; session?: string; email?: string; city?: string } = {},
) {
  serial += 1;
  return {
    id: `click-${serial}`,
    contract: 'clickstream@1',
    consent: options.consent ?? ['essential', 'marketing.email', 'analytics'],
    at: options.at ?? TODAY,
    data: {
      sessionId: options.session ?? `session-of-${customer}`,
      customerId: customer,
      url: 'https://shop.example/cart',
      email: options.email ?? `${customer}@mail.example`,
      address: { city: options.city ?? `City-of-${customer}` },
      items: 2,
    },
  };
}

export let lethe: Lethe;
export let masterKey: MasterKey;
let dispose: () => Promise<void>;
export const tokens = {} as Record<'admin' | 'dpo' | 'service', string>;

/**
 * A fresh Lethe on `backend` for each test of the calling `describe`; its tests are skipped where
 * the backend is not reachable.
 */
export function openStreamsLethe(backend: Backend): void {
  const missing = !available.includes(backend);
  beforeEach(async (context) => {
    if (missing) return context.skip('PostgreSQL is not reachable here (see the warning above)');
    const location = await backend.create({ migrated: true });
    masterKey = MasterKey.generate();
    lethe = await createLethe({ ...location, rateLimit: false, masterKey });
    dispose = async () => {
      await lethe.close();
      await location.dispose();
    };
    for (const role of ['admin', 'dpo', 'service'] as const) {
      tokens[role] = (
        await lethe.tokens.mint({
          subject: `streams-${role}`,
          role,
          ttlSeconds: 600,
          ...(role === 'service' ? { system: 'shop' } : {}),
        })
      ).token;
    }
  });
  afterEach(async () => {
    if (!missing) await dispose();
  });
}

export function send(method: string, url: string, payload?: unknown, as: keyof typeof tokens = 'admin') {
  return lethe.app.inject({
    method: method as 'GET',
    url,
    headers: { authorization: `Bearer ${tokens[as]}` },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
}
export async function publish(events: unknown[]): Promise<StreamIngestResult> {
  const response = await send('POST', '/v1/streams/events', events, 'service');
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
}
export async function read(query = ''): Promise<StreamPage> {
  const limit = query.includes('limit=') ? '' : 'limit=1000';
  const response = await send('GET', `/v1/streams/events?${limit}${query}`, undefined, 'service');
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
}
export const db = () => lethe.services.store.repository.db;

export async function putClickstream() {
  const response = await send('PUT', '/v1/contracts/clickstream', CLICKSTREAM);
  expect(response.statusCode, response.body).toBe(201);
}
