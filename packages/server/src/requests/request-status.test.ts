import { describe, expect, it } from 'vitest';
import {
  nextStatus,
  REQUEST_STATUSES,
  settledStatus,
  type RequestMove,
  type RequestStatus,
} from './request-status.js';

describe('request status moves', () => {
  it('allows exactly the moves of the table', () => {
    const allowed: Record<RequestMove, RequestStatus[]> = {
      verify: ['received'],
      approve: ['identity_verified'],
      start: ['approved'],
      complete: ['in_progress'],
      fail: ['in_progress'],
      retry: ['in_progress', 'failed'],
      deny: ['received', 'identity_verified', 'approved'],
      cancel: ['received', 'identity_verified', 'approved', 'in_progress', 'failed'],
    };
    for (const [move, from] of Object.entries(allowed) as [RequestMove, RequestStatus[]][]) {
      for (const status of REQUEST_STATUSES) {
        expect(nextStatus(status, move) !== undefined, `${move} from ${status}`).toBe(from.includes(status));
      }
    }
  });

  it('never leaves a final status', () => {
    const moves: RequestMove[] = [
      'verify',
      'approve',
      'start',
      'complete',
      'fail',
      'retry',
      'deny',
      'cancel',
    ];
    for (const status of ['completed', 'denied', 'canceled'] as const) {
      for (const move of moves) expect(nextStatus(status, move), `${move} from ${status}`).toBeUndefined();
    }
  });
});

describe('settling a request from its tasks', () => {
  it('waits while a task is under way, fails when one failed, completes when all are done', () => {
    expect(settledStatus(['done', 'waiting'])).toBeUndefined();
    expect(settledStatus(['done', 'retrying'])).toBeUndefined();
    expect(settledStatus(['done', 'failed'])).toBe('failed');
    expect(settledStatus(['done', 'canceled', 'done'])).toBe('completed');
    // A skipped task is finished: the request completes without it, once nothing else is failed.
    expect(settledStatus(['skipped', 'done'])).toBe('completed');
    expect(settledStatus(['skipped', 'failed'])).toBe('failed');
    expect(settledStatus(['skipped', 'waiting'])).toBeUndefined();
    expect(settledStatus([])).toBe('completed');
  });
});
