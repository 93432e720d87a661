import { ALL, READERS, SUBJECT, type Expectation } from './access-matrix-roles.js';
import { SYSTEMS, usage } from './fixtures.js';
// A cycle, used only when a check runs: `send` needs the matrix's server and tokens.
import { send } from './access-matrix.js';

/** Retention's routes: policies, systems, telemetry, the subject view, the feed, erasures, holds. */
export const RETENTION_EXPECTED: Record<string, Expectation> = {
  'GET /v1/policies': { allowed: ALL },
  'GET /v1/policies/:name': { allowed: ALL, url: '/v1/policies/order-delivery' },
  'GET /v1/policies/:name/versions': { allowed: ALL, url: '/v1/policies/order-delivery/versions' },
  'PUT /v1/policies/:name': {
    allowed: ['admin', 'dpo'],
    url: '/v1/policies/matrix-policy',
    payload: { purpose: 'analytics.product', retention: 'P1D', legalBasis: 'contract' },
  },
  'DELETE /v1/policies/:name': { allowed: ['admin', 'dpo'], url: '/v1/policies/matrix-policy?reason=matrix' },
  'POST /v1/policies/:name/preview': {
    allowed: ALL,
    url: '/v1/policies/order-delivery/preview',
    payload: { retention: 'P1Y' },
  },
  'GET /v1/systems': { allowed: ALL },
  'GET /v1/systems/:name': { allowed: ALL, url: '/v1/systems/accounts' },
  'PUT /v1/systems/:name': {
    allowed: ['admin', 'dpo'],
    url: '/v1/systems/mailer',
    payload: SYSTEMS['mailer'],
  },
  'POST /v1/events': {
    allowed: ['admin', 'service'],
    payload: { events: [usage(SUBJECT, 'user-account-access', ['accounts.email'], '2024-01-01T00:00:00Z')] },
  },
  'POST /v1/otlp/v1/logs': { allowed: ['admin', 'service'], payload: { resourceLogs: [] } },
  'GET /v1/subjects/:subject': {
    allowed: ['admin', 'dpo', 'auditorWithIds'],
    refusals: { auditor: 'SUBJECT_IDS_NOT_GRANTED' },
    url: `/v1/subjects/${SUBJECT}`,
  },
  'GET /v1/expiries': { allowed: ALL, url: '/v1/expiries?from=2020-01-01&to=2030-12-31' },
  'POST /v1/subjects/:subject/erasures': {
    allowed: ['admin', 'dpo', 'service'],
    url: `/v1/subjects/${SUBJECT}/erasures`,
    payload: { system: 'accounts', at: '2024-06-01T00:00:00Z' },
  },
  'POST /v1/subjects/:subject/expire': {
    allowed: ['admin', 'dpo'],
    url: `/v1/subjects/${SUBJECT}/expire`,
    payload: { reason: 'matrix' },
  },
  'POST /v1/subjects/:subject/events': {
    allowed: ['admin', 'service'],
    url: `/v1/subjects/${SUBJECT}/events`,
    payload: { name: 'account-closed', at: '2024-06-01T00:00:00Z' },
  },
  'POST /v1/subjects/:subject/events/delete': {
    allowed: ['admin', 'dpo'],
    url: `/v1/subjects/${SUBJECT}/events/delete`,
    payload: { name: 'matrix-mistake', reason: 'matrix' },
    prepare: () =>
      send('admin', 'POST', `/v1/subjects/${SUBJECT}/events`, {
        name: 'matrix-mistake',
        at: '2024-06-01T00:00:00Z',
      }),
  },
  'GET /v1/reappearances': { allowed: READERS },
  'GET /v1/expiries/due': { allowed: ALL, url: '/v1/expiries/due?system=accounts' },
  'GET /v1/holds': { allowed: READERS, unlimitedOnly: true },
  'GET /v1/holds/:name': {
    allowed: READERS,
    unlimitedOnly: true,
    url: '/v1/holds/matrix-hold',
    prepare: () => send('admin', 'PUT', '/v1/holds/matrix-hold', { reason: 'matrix', subjects: [SUBJECT] }),
  },
  'PUT /v1/holds/:name': {
    allowed: ['admin', 'dpo'],
    unlimitedOnly: true,
    url: '/v1/holds/matrix-hold',
    payload: { reason: 'matrix', subjects: [SUBJECT] },
  },
  'DELETE /v1/holds/:name': {
    allowed: ['admin', 'dpo'],
    unlimitedOnly: true,
    url: '/v1/holds/matrix-released',
    prepare: () => send('admin', 'PUT', '/v1/holds/matrix-released', { reason: 'to release' }),
  },
};
