import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { AuditCheckpoint } from '@lethe/api';
import { verifyAuditLog } from './audit-verification.js';
import type { AuditCheckpointRow } from './audit-tables.js';
import { openStore } from '../store/open-store.js';
import { commandSettings } from '../config/process-environment.js';
import {
  collect,
  configFlag,
  dataDirFlag,
  existingStoreOption,
  storeFlags,
  UsageError,
} from '../cli/args.js';

interface VerifyOptions {
  checkpoint?: string[];
  dataDir?: string;
  config?: string;
}

export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description('the audit log')
    .command('verify')
    .description('verify the audit chain straight from the store (no server, no token needed)')
    .option(
      '--checkpoint <file>',
      'checkpoints kept outside Lethe (JSON, as GET /v1/audit/checkpoints gives them); repeatable',
      collect,
    )
    .addOption(dataDirFlag())
    .addOption(configFlag())
    .action((options: VerifyOptions) => auditVerify(options));
}

/**
 * Verifies the audit chain straight from the store (the data directory or DATABASE_URL), so it
 * needs no running server and no token: an operator's tool, like `token create`. `--checkpoint`
 * adds checkpoints kept outside Lethe (JSON: one checkpoint or a list, as `GET /v1/audit/checkpoints`
 * returns them): a chain rewritten wholesale, with re-signed stored checkpoints, fails against them.
 * Exit code 1 names the first broken link. It needs no master key: checkpoints are checked with
 * the public halves of the signing keys, which are stored in clear.
 */
async function auditVerify(options: VerifyOptions): Promise<void> {
  const location = existingStoreOption(commandSettings(storeFlags(options)), { masterKey: false });
  const external = (await Promise.all((options.checkpoint ?? []).map(readCheckpoints))).flat();
  const store = await openStore(location);
  try {
    const result = await verifyAuditLog(store.repository, external);
    if (!result.ok && result.firstBroken) {
      throw new AuditBroken(
        `audit chain broken at entry ${result.firstBroken.seq}: ${result.firstBroken.reason} ` +
          `(${result.checked} entries before it are intact)`,
      );
    }
    process.stdout.write(
      `audit chain intact: ${result.checked} entries, head ${result.head.seq} ${result.head.hash}, ` +
        `${result.checkpointsChecked} checkpoints\n`,
    );
  } finally {
    await store.close();
  }
}

/** The chain did not verify: exit code 1 with the reason, as any failed command. */
export class AuditBroken extends Error {}

async function readCheckpoints(file: string): Promise<AuditCheckpointRow[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`--checkpoint ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const list = Array.isArray(parsed)
    ? parsed
    : typeof parsed === 'object' && parsed !== null && 'items' in parsed
      ? parsed.items
      : [parsed];
  if (!Array.isArray(list)) throw new UsageError(`--checkpoint ${file}: not a checkpoint or a list of them`);
  return list.map((item: unknown, index) => {
    const checkpoint = item as Partial<AuditCheckpoint>;
    const at = Date.parse(String(checkpoint.at));
    if (
      typeof checkpoint.seq !== 'number' ||
      typeof checkpoint.hash !== 'string' ||
      typeof checkpoint.kid !== 'string' ||
      typeof checkpoint.signature !== 'string' ||
      Number.isNaN(at)
    ) {
      throw new UsageError(
        `--checkpoint ${file}: item ${index} is not a checkpoint {seq, hash, at, kid, signature}`,
      );
    }
    return {
      seq: checkpoint.seq,
      hash: checkpoint.hash,
      at,
      kid: checkpoint.kid,
      signature: checkpoint.signature,
    };
  });
}
