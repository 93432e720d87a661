import type { Expectation } from './access-matrix-roles.js';
// A cycle, used only when a check runs: `send` and `lethe` need the matrix's server and tokens.
import { lethe, send } from './access-matrix.js';
import { emitWebhookEvent } from '../../src/webhooks/webhook-outbox.js';

const HOOK = { url: 'https://hooks.example.com/lethe', events: ['request.completed'] };
let delivery = '';

/** A subscription with one delivery in its log (the event is dispatched by the delivery job). */
async function matrixDelivery(): Promise<void> {
  if (delivery) return;
  await send('admin', 'POST', '/v1/webhooks', { name: 'matrix-hook', ...HOOK });
  await lethe.services.store.transaction((repository) =>
    emitWebhookEvent(repository, { type: 'request.completed', data: { request: 'matrix' } }),
  );
  await lethe.services.webhookDeliverer.tick();
  const log = await lethe.services.store.repository.webhooks.deliveriesOf('matrix-hook', 1);
  delivery = log[0]?.id ?? '';
}

/** Webhooks: an admin manages them; a DPO may read subscriptions and their delivery log. */
export const WEBHOOKS_EXPECTED: Record<string, Expectation> = {
  'GET /v1/webhooks': { allowed: ['admin', 'dpo'] },
  'POST /v1/webhooks': {
    allowed: ['admin'],
    payload: { name: 'matrix-created', ...HOOK },
    prepare: () => send('admin', 'DELETE', '/v1/webhooks/matrix-created'),
  },
  'GET /v1/webhooks/:name': {
    allowed: ['admin', 'dpo'],
    url: '/v1/webhooks/matrix-hook',
    prepare: matrixDelivery,
  },
  'PATCH /v1/webhooks/:name': {
    allowed: ['admin'],
    url: '/v1/webhooks/matrix-hook',
    payload: { dueSoonDays: 3 },
    prepare: matrixDelivery,
  },
  'DELETE /v1/webhooks/:name': {
    allowed: ['admin'],
    url: '/v1/webhooks/matrix-gone',
    prepare: () => send('admin', 'POST', '/v1/webhooks', { name: 'matrix-gone', ...HOOK }),
  },
  'POST /v1/webhooks/:name/secret': {
    allowed: ['admin'],
    url: '/v1/webhooks/matrix-hook/secret',
    prepare: matrixDelivery,
  },
  'GET /v1/webhooks/:name/deliveries': {
    allowed: ['admin', 'dpo'],
    url: '/v1/webhooks/matrix-hook/deliveries',
    prepare: matrixDelivery,
  },
  'POST /v1/webhooks/deliveries/:id/redeliver': {
    allowed: ['admin'],
    url: () => `/v1/webhooks/deliveries/${delivery}/redeliver`,
    prepare: matrixDelivery,
  },
};
