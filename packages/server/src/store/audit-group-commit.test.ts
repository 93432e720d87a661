import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../audit/audit-chain.js';
import { auditGroupCommit } from './audit-group-commit.js';

const record = (n: number): AuditRecord => ({
  at: n,
  actor: 'admin:reader',
  action: 'subject.read',
  target: `subject:s-${n}`,
  requestId: `r-${n}`,
});

describe('auditGroupCommit', () => {
  it('commits the entries of concurrent reads together, in order, and answers after the commit', async () => {
    const groups: string[][] = [];
    let committed = 0;
    const append = auditGroupCommit(async (records) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      groups.push(records.map((entry) => entry.target));
      committed += records.length;
    });
    const answered: number[] = [];
    const first = Array.from({ length: 10 }, (_, n) =>
      append(record(n)).then(() => answered.push(committed)),
    );
    await new Promise((resolve) => setImmediate(resolve)); // the first group is committing
    const second = Array.from({ length: 5 }, (_, n) => append(record(10 + n)));
    await Promise.all([...first, ...second]);
    expect(groups).toEqual([
      Array.from({ length: 10 }, (_, n) => `subject:s-${n}`),
      Array.from({ length: 5 }, (_, n) => `subject:s-${10 + n}`),
    ]);
    // No read was answered before its group was on disk.
    expect(answered.every((count) => count >= 10)).toBe(true);
  });

  it('fails every read of a group whose commit fails, and commits the next group', async () => {
    let fail = true;
    const append = auditGroupCommit(async () => {
      if (fail) throw new Error('disk full');
    });
    const results = await Promise.allSettled(Array.from({ length: 4 }, (_, n) => append(record(n))));
    expect(results.map((result) => result.status)).toEqual(Array(4).fill('rejected'));
    fail = false;
    await expect(append(record(5))).resolves.toBeUndefined();
  });
});
