import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { CONNECTOR_TYPES, IDENTIFIER_TAGS, type ConnectorInput, type IdentifierTag } from '@lethe/api';
import { LetheClient } from '@lethe/client';
import { stringify } from 'yaml';
import { clientSettings, UsageError, usageErrors } from '../cli/args.js';
import { Taxonomy } from '../lib/taxonomy.js';
import { validateConnectorConfig } from './sql-connectors/connector-config.js';
import { importFidesDataset } from './sql-connectors/fides-dataset.js';

export const CONNECTORS_USAGE =
  'lethe connectors import-fides FILE.yml --name N --type postgres|mysql|sqlite --url-env VAR [--system S] [--dataset KEY] [--identity NAME=TAG …] [--dry-run]';

/**
 * `lethe connectors import-fides`: a fideslang dataset file becomes a SQL connector. Every
 * problem is listed (YAML paths) and nothing is sent; `--dry-run` prints the config instead of
 * saving it. Categories are checked against the server's taxonomy (the defaults on a dry run).
 */
export async function connectorsCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== 'import-fides') throw new UsageError(`unknown subcommand "${sub ?? ''}"`);
  const { values, positionals } = usageErrors(() =>
    parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        name: { type: 'string' },
        type: { type: 'string' },
        'url-env': { type: 'string' },
        system: { type: 'string' },
        dataset: { type: 'string' },
        identity: { type: 'string', multiple: true },
        'dry-run': { type: 'boolean' },
      },
    }),
  );
  const [file, ...extra] = positionals;
  if (!file || extra.length > 0) throw new UsageError('give exactly one dataset file');
  if (!values.name) throw new UsageError('give the connector a --name');
  const type = CONNECTOR_TYPES.find((t) => t === values.type);
  if (!type) throw new UsageError(`--type is one of ${CONNECTOR_TYPES.join(', ')}`);
  if (!values['url-env'])
    throw new UsageError('give --url-env, the variable that holds the connection string');
  const identities = identityOptions(values.identity ?? []);
  const dryRun = values['dry-run'] ?? false;
  const client = dryRun ? undefined : new LetheClient(clientSettings());
  const categories = client ? await serverCategories(client) : Taxonomy.dataCategories();
  const text = await readFile(file, 'utf8').catch((error: Error) => {
    throw new UsageError(`cannot read ${file}: ${error.message}`);
  });
  const result = importFidesDataset(text, { dataset: values.dataset, identities, categories });
  for (const note of result.notes) process.stderr.write(`note: ${note}\n`);
  const config: ConnectorInput = {
    type,
    urlEnv: values['url-env'],
    ...(values.system ? { system: values.system } : {}),
    description:
      `fideslang dataset ${result.dataset.key ?? '?'}${result.dataset.name ? `: ${result.dataset.name}` : ''}`.slice(
        0,
        2000,
      ),
    tables: result.tables,
  };
  const problems = result.problems.length > 0 ? result.problems : validateConnectorConfig(config, categories);
  if (problems.length > 0) {
    throw new Error(
      `${file}: ${problems.length} problem(s); nothing was imported:\n${problems
        .map((p) => `  ${p.path}: ${p.message}`)
        .join('\n')}`,
    );
  }
  if (!client) {
    process.stdout.write(stringify({ name: values.name, ...config }));
    return;
  }
  const saved = await client.putConnector(values.name, config);
  process.stdout.write(`connector ${saved.name} saved: ${saved.tables.length} tables from ${file}\n`);
}

/** The server's data categories: the defaults and the installation's extensions. */
async function serverCategories(client: LetheClient): Promise<Taxonomy> {
  const defaults = Taxonomy.dataCategories();
  const extensions = (await client.getTaxonomy()).categories
    .filter((category) => !defaults.has(category.key))
    .map((category) => ({ key: category.key, description: '' }));
  return defaults.extend(extensions);
}

/** `--identity user_id=subject-id`: a fideslang identity name and the Lethe tag it stands for. */
function identityOptions(pairs: readonly string[]): Record<string, IdentifierTag> {
  const identities: Record<string, IdentifierTag> = {};
  for (const pair of pairs) {
    const [name, tag] = pair.split('=');
    const known = IDENTIFIER_TAGS.find((t) => t === tag);
    if (!name || !known)
      throw new UsageError(`--identity is NAME=TAG, TAG one of ${IDENTIFIER_TAGS.join(', ')}`);
    identities[name] = known;
  }
  return identities;
}
