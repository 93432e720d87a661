import { LetheApiError } from '@lethe/client';
import { AppError } from '../lib/app-error.js';
import { APPLY_USAGE, applyCommand } from '../manifests/apply-command.js';
import { AUDIT_USAGE, AuditBroken, auditCommand } from '../audit/audit-command.js';
import { CONSENT_USAGE, consentCommand } from '../consent/consent-command.js';
import { CONNECTORS_USAGE, connectorsCommand } from '../requests/connectors-command.js';
import { UsageError } from './args.js';
import { EXPIRIES_USAGE, expiriesCommand } from '../retention/expiries-command.js';
import { EXPORT_USAGE, exportCommand } from '../streams/exports/export-command.js';
import { JOBS_USAGE, jobsCommand } from '../jobs/jobs-command.js';
import { ManifestError } from '../manifests/manifest-file.js';
import { REQUEST_USAGE, requestCommand, TICKET_USAGE, ticketCommand } from '../requests/request-command.js';
import { SERVE_USAGE, serveCommand } from './serve-command.js';
import { TOKEN_USAGE, tokenCommand } from '../session/token-command.js';

const COMMANDS: Record<string, { usage: string; run: (args: string[]) => Promise<void> }> = {
  serve: { usage: SERVE_USAGE, run: serveCommand },
  token: { usage: TOKEN_USAGE, run: tokenCommand },
  apply: { usage: APPLY_USAGE, run: applyCommand },
  export: { usage: EXPORT_USAGE, run: exportCommand },
  expiries: { usage: EXPIRIES_USAGE, run: expiriesCommand },
  jobs: { usage: JOBS_USAGE, run: jobsCommand },
  audit: { usage: AUDIT_USAGE, run: auditCommand },
  request: { usage: REQUEST_USAGE, run: requestCommand },
  ticket: { usage: TICKET_USAGE, run: ticketCommand },
  consent: { usage: CONSENT_USAGE, run: consentCommand },
  connectors: { usage: CONNECTORS_USAGE, run: connectorsCommand },
};

const USAGE = `usage:\n${Object.values(COMMANDS)
  .map((command) => `  ${command.usage}`)
  .join('\n')}\n\nClient commands read LETHE_URL (default http://127.0.0.1:7420) and LETHE_TOKEN.\n`;

/** Exit codes: 0 done, 1 failed (server said no, or I/O), 2 called wrongly. */
async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === 'help') {
    process.stdout.write(USAGE);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`lethe: unknown command "${name}"\n${USAGE}`);
    return 2;
  }
  try {
    await command.run(args);
    // A command that finished but reports a partial failure (an import with rejected lines) has
    // set process.exitCode; the `.then` below would otherwise overwrite it with 0.
    return Number(process.exitCode ?? 0);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`lethe ${name}: ${error.message}\nusage: ${command.usage}\n`);
      return 2;
    }
    if (error instanceof ManifestError || error instanceof AuditBroken) {
      process.stderr.write(`lethe ${name}: ${error.message}\n`);
      return 1;
    }
    if (error instanceof LetheApiError || error instanceof AppError) {
      process.stderr.write(`lethe ${name}: ${error.code}: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`lethe ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
// `serve` keeps running; every other command ends here.
if (code !== 0 || process.argv[2] !== 'serve') process.exitCode = code;
