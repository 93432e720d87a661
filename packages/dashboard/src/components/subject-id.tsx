import { Link } from '../router.js';

/**
 * A subject in a table: a link to its page when the token sees real ids, otherwise the server's
 * pseudonym as plain text (no subject page answers to a pseudonym).
 */
export function SubjectId({ subject, linked }: { subject: string; linked: boolean }) {
  return linked ? (
    <Link to={`/subjects/${encodeURIComponent(subject)}`}>{subject}</Link>
  ) : (
    <code>{subject}</code>
  );
}
