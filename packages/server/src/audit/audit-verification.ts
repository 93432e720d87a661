import type { AuditVerification } from '@lethe/api';
import { compactVerify, importJWK, type JWK } from 'jose';
import { AUDIT_GENESIS_HASH, checkAuditChain, type AuditHead, type BrokenLink } from './audit-chain.js';
import type { Repository } from '../store/repository.js';
import type { AuditCheckpointRow } from './audit-tables.js';

const CHUNK = 5_000;

/** What a checkpoint's JWS payload holds. */
export interface CheckpointClaims {
  readonly seq: number;
  readonly hash: string;
  readonly at: number;
}

/**
 * Recomputes the whole chain a chunk at a time (memory stays flat), checks that the stored head
 * matches it, and that every checkpoint — the stored ones and any kept outside (`external`) — is
 * signed by one of Lethe's keys and names the hash the chain has at its seq. Names the first
 * broken link.
 */
export async function verifyAuditLog(
  repository: Repository,
  external: readonly AuditCheckpointRow[] = [],
): Promise<AuditVerification> {
  const storedHead = await repository.audit.head();
  const checkpoints = [...(await repository.audit.listCheckpoints(Number.MAX_SAFE_INTEGER)), ...external];
  const wanted = new Set(checkpoints.map((checkpoint) => Number(checkpoint.seq)));
  const hashAt = new Map<number, string>();

  // The last entry that links up. The chain is numbered from 1, so entries are counted by seq,
  // never by position in a chunk (where a missing entry has none); a break found after the chain
  // (the stored head, a checkpoint) leaves intact only the entries before it.
  let head: AuditHead = { seq: 0, hash: AUDIT_GENESIS_HASH };
  const result = (firstBroken?: BrokenLink): AuditVerification => ({
    ok: firstBroken === undefined,
    checked: firstBroken ? Math.min(head.seq, firstBroken.seq - 1) : head.seq,
    head: { seq: head.seq, hash: head.hash },
    ...(firstBroken ? { firstBroken } : {}),
    checkpointsChecked: checkpoints.length,
  });

  while (head.seq < Number(storedHead.seq)) {
    const entries = (await repository.audit.entries(head.seq, CHUNK)).filter(
      (entry) => entry.seq <= Number(storedHead.seq),
    );
    if (entries.length === 0) {
      return result({ seq: head.seq + 1, reason: `entry ${head.seq + 1} is missing` });
    }
    const outcome = checkAuditChain(head, entries);
    head = outcome.head;
    if (outcome.broken) return result(outcome.broken);
    for (const entry of entries) if (wanted.has(entry.seq)) hashAt.set(entry.seq, entry.hash);
  }
  if (head.hash !== storedHead.hash) {
    return result({ seq: head.seq, reason: 'the stored head does not match the last entry' });
  }
  for (const checkpoint of checkpoints) {
    const problem = await checkpointProblem(repository, checkpoint, hashAt);
    if (problem) return result({ seq: Number(checkpoint.seq), reason: problem });
  }
  return result();
}

async function checkpointProblem(
  repository: Repository,
  checkpoint: AuditCheckpointRow,
  hashAt: ReadonlyMap<number, string>,
): Promise<string | undefined> {
  const seq = Number(checkpoint.seq);
  const key = await repository.signingKeys.publicKey(checkpoint.kid);
  if (!key) return `checkpoint ${seq} is signed by an unknown key ${checkpoint.kid}`;
  let claims: CheckpointClaims;
  try {
    const publicKey = await importJWK(JSON.parse(key.public_jwk) as JWK, key.algorithm);
    const { payload } = await compactVerify(checkpoint.signature, publicKey, { algorithms: [key.algorithm] });
    claims = JSON.parse(new TextDecoder().decode(payload)) as CheckpointClaims;
  } catch {
    return `checkpoint ${seq} has an invalid signature`;
  }
  if (claims.seq !== seq || claims.hash !== checkpoint.hash) {
    return `checkpoint ${seq} does not match its own signed content`;
  }
  const hash = hashAt.get(seq);
  if (hash === undefined) return `checkpoint ${seq} names an entry the chain does not have`;
  if (hash !== checkpoint.hash) return `entry ${seq} differs from the signed checkpoint`;
  return undefined;
}
