import { LetheApiError } from '@lethe/client';
import { CommanderError, type Command } from 'commander';
import { AppError } from '../lib/app-error.js';
import { AuditBroken } from '../audit/audit-command.js';
import { ManifestError } from '../manifests/manifest-file.js';
import { ConfigError } from '../config/config-error.js';
import { DataDirNotFoundError, UsageError } from './args.js';
import { commandPath, letheProgram } from './program.js';

/** Exit codes: 0 done, 1 failed (server said no, or I/O), 2 called wrongly. */
async function main(argv: string[]): Promise<number> {
  const program = letheProgram();
  if (argv.length === 0) {
    program.outputHelp();
    return 2;
  }
  let running: Command = program;
  program.hook('preAction', (_program, action) => {
    running = action;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    // A command that finished but reports a partial failure (an import with rejected lines) has
    // set process.exitCode; the `.then` below would otherwise overwrite it with 0.
    return Number(process.exitCode ?? 0);
  } catch (error) {
    // Commander has printed its own message (unknown option, value not among the choices, …);
    // `--help` and `--version` end with code 0, every other of its errors is a wrong call.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    const name = commandPath(running);
    if (error instanceof UsageError) {
      process.stderr.write(`${name}: ${error.message}\n(run \`${name} --help\` for the usage)\n`);
      return 2;
    }
    // A setting that cannot be used: called wrongly, but `--help` would not say what is wrong.
    if (error instanceof ConfigError) {
      process.stderr.write(`${name}: ${error.message}\n(docs/configuration.md lists every setting)\n`);
      return 2;
    }
    if (
      error instanceof ManifestError ||
      error instanceof AuditBroken ||
      error instanceof DataDirNotFoundError
    ) {
      process.stderr.write(`${name}: ${error.message}\n`);
      return 1;
    }
    if (error instanceof LetheApiError || error instanceof AppError) {
      process.stderr.write(`${name}: ${error.code}: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
// `serve` keeps running; every other command ends here.
if (code !== 0 || process.argv[2] !== 'serve') process.exitCode = code;
