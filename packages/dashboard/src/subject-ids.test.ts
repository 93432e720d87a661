import { describe, expect, it } from 'vitest';
import { maySeeSubjectIds } from './subject-ids.js';

const view = (role: string, grants?: string[]) => ({
  subject: 'someone',
  role,
  actions: [],
  ...(grants ? { grants } : {}),
});

describe('maySeeSubjectIds', () => {
  it('follows the server: every role but an auditor, and an auditor only with the subject-ids grant', () => {
    expect(maySeeSubjectIds(view('dpo'))).toBe(true);
    expect(maySeeSubjectIds(view('admin'))).toBe(true);
    expect(maySeeSubjectIds(view('auditor'))).toBe(false);
    expect(maySeeSubjectIds(view('auditor', ['exports']))).toBe(false);
    expect(maySeeSubjectIds(view('auditor', ['subject-ids']))).toBe(true);
  });
});
