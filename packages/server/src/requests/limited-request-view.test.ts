import type { RequestTask, RightsRequest } from '@lethe/api';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../auth/principal.js';
import { limitedRequestView } from './limited-request-view.js';

const AT = '2026-01-01T00:00:00.000Z';
const TASK: RequestTask = {
  task: 1,
  target: 'orders',
  targetKind: 'team',
  protocol: 'ticket',
  reasons: ['data map: stores user.contact.address'],
  state: 'done',
  attempts: 1,
  rowsFound: 0,
  rowsChanged: 0,
  note: 'cleared orders.card_number',
  lastError: 'column "card_number" is locked',
  attemptLog: [{ attempt: 1, startedAt: AT, outcome: 'retry', error: 'column "card_number" is locked' }],
};
const REQUEST: RightsRequest = {
  id: 'r-1',
  type: 'delete_pii',
  strategy: 'exact',
  jurisdiction: 'gdpr',
  status: 'in_progress',
  source: 'api',
  identifiers: { subject: 'u-1', email: 'ann@example.com', phone: '+31612345678', customKey: 'crm-7' },
  identifierKinds: ['subject', 'email', 'phone', 'customKey'],
  masked: 'a***@example.com',
  receivedAt: AT,
  dueAt: AT,
  daysLeft: 30,
  overdue: false,
  extension: { at: AT, by: 'dpo:eve', reason: 'card data in three systems' },
  receipt: {},
  verification: { required: false },
  approval: { required: false },
  statusReason: 'ann asked about her card',
  categories: ['user.contact.email', 'user.financial'],
  rowsFound: 0,
  createdBy: 'admin:ada',
  createdAt: AT,
  updatedAt: AT,
  pii: { held: true },
  tasks: [TASK],
};

describe('limitedRequestView', () => {
  it('leaves the request whole for a token without category limits', () => {
    expect(limitedRequestView({ id: 'ada', role: 'admin' }, REQUEST)).toBe(REQUEST);
  });

  it('keeps what a limited token sees and withholds the rest, free text included', () => {
    const contact: Principal = { id: 'c', role: 'admin', categories: ['user.contact.email'] };
    const view = limitedRequestView(contact, REQUEST);
    expect(view.identifiers).toEqual({ email: 'ann@example.com' });
    expect(view.categories).toEqual(['user.contact.email']);
    expect(view.statusReason).toBeUndefined();
    expect(view.extension).toEqual({ at: AT, by: 'dpo:eve', reason: '' });
    expect(view.tasks).toEqual([
      {
        ...TASK,
        note: undefined,
        lastError: undefined,
        attemptLog: [{ attempt: 1, startedAt: AT, outcome: 'retry' }],
      },
    ]);
    expect(JSON.stringify(view)).not.toMatch(/card|u-1"|crm-7|financial/);
  });
});
