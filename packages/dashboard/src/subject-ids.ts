import type { SessionView } from '@lethe/api';

/**
 * Whether the server shows this token real subject ids: the same rule as the server's
 * (`maySeeSubjectIds` in packages/server/src/auth/permissions.ts: not an auditor, or one with the
 * `subject-ids` grant). The server already sends pseudonyms where it says no; the dashboard uses
 * the rule only to decide whether an id is drawn as a link, since no subject page answers to a
 * pseudonym.
 */
export function maySeeSubjectIds(session: SessionView): boolean {
  return session.role !== 'auditor' || (session.grants ?? []).includes('subject-ids');
}
