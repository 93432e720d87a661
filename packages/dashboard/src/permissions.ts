import type { SessionView } from '@lethe/api';
import { useSessionView } from './session-context.js';
import { maySeeSubjectIds } from './subject-ids.js';

/**
 * The subject page's need: `subjects:read` alone is not enough, since the subject view refuses a
 * token that sees only pseudonyms (an auditor without the `subject-ids` grant:
 * `SUBJECT_IDS_NOT_GRANTED`), while its re-appearances stay readable.
 */
export const LOOK_UP_SUBJECTS = 'subjects:look-up';

/**
 * Whether the token may do `need`: a permission `GET /v1/session` lists in `actions`
 * (`policies:write`, …), or `LOOK_UP_SUBJECTS`. The dashboard holds no copy of the permission
 * table; it only asks the server's answer.
 */
export function can(view: SessionView, need: string): boolean {
  if (need === LOOK_UP_SUBJECTS) return view.actions.includes('subjects:read') && maySeeSubjectIds(view);
  return view.actions.includes(need);
}

/**
 * `can` for the signed-in token. False until `/v1/session` answers: an action is offered (its
 * button rendered at all) only once the server says the token may take it, so no role is shown a
 * button whose click would be refused.
 *
 * @example
 * const mayWrite = useCan('policies:write');
 * return mayWrite ? <button>New policy</button> : null;
 */
export function useCan(need: string): boolean {
  const me = useSessionView();
  return me.state === 'ready' && can(me.data, need);
}
