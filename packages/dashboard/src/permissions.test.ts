import { describe, expect, it } from 'vitest';
import { can, LOOK_UP_SUBJECTS } from './permissions.js';

const view = (role: string, actions: string[], grants?: string[]) => ({
  subject: 'someone',
  role,
  actions,
  ...(grants ? { grants } : {}),
});

describe('can', () => {
  it('answers from the actions the server listed, nothing else', () => {
    expect(can(view('dpo', ['policies:read', 'policies:write']), 'policies:write')).toBe(true);
    expect(can(view('auditor', ['policies:read']), 'policies:write')).toBe(false);
    // The role's name decides nothing by itself: an admin token the server lists nothing for gets nothing.
    expect(can(view('admin', []), 'policies:read')).toBe(false);
  });

  it('offers the subject lookup only to a token that reads subjects with real ids', () => {
    expect(can(view('dpo', ['subjects:read']), LOOK_UP_SUBJECTS)).toBe(true);
    expect(can(view('auditor', ['subjects:read']), LOOK_UP_SUBJECTS)).toBe(false);
    expect(can(view('auditor', ['subjects:read'], ['subject-ids']), LOOK_UP_SUBJECTS)).toBe(true);
    expect(can(view('service', ['policies:read']), LOOK_UP_SUBJECTS)).toBe(false);
  });
});
