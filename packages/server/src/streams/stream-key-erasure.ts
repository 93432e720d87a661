import type { Identifiers } from '@lethe/api';
import { LETHE_ITSELF } from '../auth/principal.js';
import type { FieldKeyService } from './field-key-service.js';
import type { ErasureHook } from '../requests/request-progress.js';
import type { RequestVault } from '../requests/request-vault.js';

/**
 * A completed delete (or delete_pii) request that names the person's `subject` id shreds every
 * privacy-stream key tied to that subject, in the transaction that completes the request, just
 * before the request's own identifiers are destroyed. The audit entry names the request and how
 * many keys went (`keys.shred request:<id> keys=<n>`), not the subject.
 */
export function shredStreamKeysOnErasure(vault: RequestVault, keys: FieldKeyService): ErasureHook {
  return async (repository, request) => {
    if (request.identifiers_sealed === null) return;
    const sealer = await vault.open(repository, request.id);
    if (sealer === undefined) return;
    const { subject } = sealer.open<Identifiers>(request.identifiers_sealed, 'identifiers');
    if (subject === undefined) return;
    await keys.shredSubjectIn(
      repository,
      LETHE_ITSELF,
      subject,
      `rights request ${request.id}`,
      `request:${request.id}`,
    );
  };
}
