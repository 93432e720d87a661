import type { Settings } from '../config/settings.js';
import { dataDirOf } from './args.js';

/**
 * The `token create` command that reaches this server's store from any directory: the absolute
 * data directory, the configuration file and the database, as this server found them. The
 * master key is never printed; a key given in the environment must be given to the command too.
 */
export function tokenCommandFor(settings: Settings): string {
  const variables = [`LETHE_DATA_DIR=${shellWord(dataDirOf(settings))}`];
  if (settings.file) variables.push(`LETHE_CONFIG=${shellWord(settings.file)}`);
  const databaseUrl = settings.resolution('DATABASE_URL');
  // A URL from the environment may hold a password: named, not printed.
  if (databaseUrl.source === 'environment') variables.push('DATABASE_URL="$DATABASE_URL"');
  const keyFile = settings.resolution('LETHE_MASTER_KEY_FILE');
  if (keyFile.source === 'environment' && keyFile.value)
    variables.push(`LETHE_MASTER_KEY_FILE=${shellWord(keyFile.value)}`);
  const keyNote =
    settings.get('LETHE_MASTER_KEY') !== undefined ? ' (with LETHE_MASTER_KEY set as here)' : '';
  return `${variables.join(' ')} npx lethe token create --role admin --ttl 1h${keyNote}`;
}

/** `text` as one shell word: bare when it is plain, else in single quotes. */
function shellWord(text: string): string {
  return /^[\w./@:+-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}
