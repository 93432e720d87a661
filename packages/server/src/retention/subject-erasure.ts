import { LETHE_ITSELF } from '../auth/principal.js';
import type { ErasureHook } from '../requests/request-progress.js';
import type { RequestVault } from '../requests/request-vault.js';
import { forgetSubjectIn } from './retention-service.js';

/**
 * A completed `delete` that names the person's `subject` id also removes what Lethe itself
 * keeps about that subject (uses, expiries, confirmed erasures, consent violations), in the
 * transaction that completes the request, before its identifiers are destroyed. What remains is
 * the suppression hash (a returning person is flagged), the consent history (Art. 7(1) proof)
 * and the audit trail. A `delete_pii` keeps the records: it clears chosen columns, not the
 * person, and Lethe goes on computing when the rest expires.
 */
export function forgetSubjectOnErasure(vault: RequestVault): ErasureHook {
  return async (repository, request) => {
    if (request.type !== 'delete') return;
    const subject = (await vault.identifiers(repository, request))?.subject;
    if (subject === undefined) return;
    await forgetSubjectIn(repository, LETHE_ITSELF, subject, `request:${request.id}`);
  };
}
