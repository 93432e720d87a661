import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  CONNECTOR_TYPES,
  IDENTIFIER_TAGS,
  type ConnectorInput,
  type ConnectorType,
  type IdentifierTag,
} from '@lethe/api';
import { LetheClient } from '@lethe/client';
import { stringify } from 'yaml';
import { choiceOption, clientSettings, collect, UsageError } from '../cli/args.js';
import { Taxonomy } from '../lib/taxonomy.js';
import { validateConnectorConfig } from './sql-connectors/connector-config.js';
import { importFidesDataset } from './sql-connectors/fides-dataset.js';

interface ImportOptions {
  name: string;
  type: ConnectorType;
  urlEnv: string;
  system?: string;
  dataset?: string;
  identity?: string[];
  dryRun?: boolean;
}

export function registerConnectors(program: Command): void {
  program
    .command('connectors')
    .description('SQL connectors that answer rights requests from a database')
    .command('import-fides')
    .description('turn a fideslang dataset file into a SQL connector')
    .argument('<file>', 'the fideslang dataset (YAML)')
    .requiredOption('--name <name>', 'the connector name')
    .addOption(choiceOption('--type <type>', 'the database', CONNECTOR_TYPES).makeOptionMandatory())
    .requiredOption('--url-env <var>', 'the environment variable that holds the connection string')
    .option('--system <system>', 'the system the connector belongs to')
    .option('--dataset <key>', 'the dataset to take from a file with several')
    .option(
      '--identity <name=tag>',
      `a fideslang identity and the Lethe tag it stands for (${IDENTIFIER_TAGS.join(', ')}); repeatable`,
      collect,
    )
    .option('--dry-run', 'print the connector config instead of saving it')
    .action((file: string, options: ImportOptions) => importFides(file, options));
}

/**
 * `lethe connectors import-fides`: a fideslang dataset file becomes a SQL connector. Every
 * problem is listed (YAML paths) and nothing is sent; `--dry-run` prints the config instead of
 * saving it. Categories are checked against the server's taxonomy (the defaults on a dry run).
 */
async function importFides(file: string, values: ImportOptions): Promise<void> {
  const type = values.type;
  const identities = identityOptions(values.identity ?? []);
  const dryRun = values.dryRun ?? false;
  const client = dryRun ? undefined : new LetheClient(clientSettings());
  const categories = client ? await serverCategories(client) : Taxonomy.dataCategories();
  const text = await readFile(file, 'utf8').catch((error: Error) => {
    throw new UsageError(`cannot read ${file}: ${error.message}`);
  });
  const result = importFidesDataset(text, { dataset: values.dataset, identities, categories });
  for (const note of result.notes) process.stderr.write(`note: ${note}\n`);
  const config: ConnectorInput = {
    type,
    urlEnv: values.urlEnv,
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
