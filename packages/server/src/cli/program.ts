import { Command } from 'commander';
import { registerApply } from '../manifests/apply-command.js';
import { registerAudit } from '../audit/audit-command.js';
import { registerConsent } from '../consent/consent-command.js';
import { registerConnectors } from '../requests/connectors-command.js';
import { registerExpiries } from '../retention/expiries-command.js';
import { registerHolds } from '../retention/holds/holds-command.js';
import { registerExport } from '../streams/exports/export-command.js';
import { registerJobs } from '../jobs/jobs-command.js';
import { registerRequest, registerTicket } from '../requests/request-command.js';
import { registerServe } from './serve-command.js';
import { registerBackup } from '../store/backup-command.js';
import { registerMigrate } from '../store/migrate-command.js';
import { registerToken } from '../session/token-command.js';
import { registerWebhooks } from '../webhooks/webhooks-command.js';
import { packageVersion } from '../lib/package-version.js';

/**
 * The `lethe` program: every command declares its options (with descriptions and allowed values)
 * in its feature folder; commander parses them, answers `--help`/`help CMD` and `--version`.
 * Errors are thrown (exitOverride), not exited on, so that main maps them to exit code 2.
 */
export function letheProgram(): Command {
  const program = new Command('lethe')
    .description('Lethe: retention, consent and privacy rights requests.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .exitOverride()
    .showHelpAfterError('(run with --help for the usage)')
    .addHelpText(
      'after',
      '\nClient commands read LETHE_URL (default http://127.0.0.1:7420) and LETHE_TOKEN.\n' +
        'Exit codes: 0 done, 1 failed, 2 called wrongly.',
    );
  for (const register of [
    registerServe,
    registerToken,
    registerApply,
    registerExport,
    registerExpiries,
    registerHolds,
    registerJobs,
    registerAudit,
    registerRequest,
    registerTicket,
    registerConsent,
    registerConnectors,
    registerWebhooks,
    registerBackup,
    registerMigrate,
  ])
    register(program);
  return program;
}

/** `lethe request create`, for messages: the names from the program down to `command`. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}
