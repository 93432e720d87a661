import { processEnvironment } from '../config/process-environment.js';
import type { Connector, ConnectorInput } from '@lethe/api';
import { authorize, requireAllCategories } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import {
  checkConnectorSchema,
  validateConnectorConfig,
  type ConfigProblem,
} from './sql-connectors/sql-connector.js';

/** What a connector config means that it may not have meant before (shown by `lethe apply`). */
export { connectorConfigNotes } from './sql-connectors/sql-connector.js';
import { AppError } from '../lib/app-error.js';
import { toIso } from '../lib/time.js';
import type { Repository } from '../store/repository.js';
import type { ConnectorRow } from './request-tables.js';
import type { Store } from '../store/store.js';
import { audit } from '../audit/audit-trail.js';
import type { Written } from '../datamap/datamap-service.js';

/**
 * SQL connectors: databases that rights requests search directly. The configuration names the
 * environment variable holding the connection string; the string itself is never stored, so a
 * database dump of Lethe does not carry credentials to every database of the company.
 */
/** A connector maps tables and columns of every category, so a category-limited token may not use one. */
const CONNECTOR_SCOPE = 'A connector maps the tables and columns of every data category';

export class ConnectorService {
  constructor(
    private readonly store: Store,
    /** Where connection strings are looked up, as the runner does. */
    private readonly env: Readonly<Record<string, string | undefined>> = processEnvironment(),
  ) {}

  async list(principal: Principal): Promise<Connector[]> {
    authorize(principal, 'connectors:read');
    requireAllCategories(principal, CONNECTOR_SCOPE);
    return (await this.store.repository.requests.listConnectors()).map(connectorRowToConnector);
  }

  async get(principal: Principal, name: string): Promise<Connector> {
    authorize(principal, 'connectors:read');
    requireAllCategories(principal, CONNECTOR_SCOPE);
    const row = await this.store.repository.requests.getConnector(name);
    if (!row) throw new AppError('CONNECTOR_NOT_FOUND', `No connector named "${name}".`);
    return connectorRowToConnector(row);
  }

  /**
   * Checks the config and, where the server holds its connection string, refuses a config the
   * live catalog does not fit (`CONNECTOR_SCHEMA_MISMATCH`); then saves. The catalog is read
   * before the store's transaction opens: a slow database never holds Lethe's own lock.
   */
  async put(principal: Principal, name: string, input: ConnectorInput): Promise<Written<Connector>> {
    authorize(principal, 'connectors:write');
    requireAllCategories(principal, CONNECTOR_SCOPE);
    invalidConfig(input);
    refuseMismatch(name, await this.checkSchema(input));
    return this.store.transaction((repository) => this.putIn(repository, principal, name, input));
  }

  /**
   * The config against its database's live catalog (existence of tables and columns, unique and
   * non-null keys, unique columns links walk up to). `checked: false` with a note when it could
   * not be made: the environment variable is not set here, or the database did not answer; every
   * run checks again at its start, before any row is read.
   */
  async checkSchema(input: ConnectorInput): Promise<SchemaCheck> {
    if (validateConnectorConfig(input).length > 0) return { checked: false, problems: [] };
    const url = this.env[input.urlEnv];
    if (url === undefined || url === '') {
      return {
        checked: false,
        problems: [],
        note:
          `not checked against the database: ${input.urlEnv} is not set on this server; ` +
          `every run checks its tables, columns and keys at its start`,
      };
    }
    try {
      return { checked: true, problems: await checkConnectorSchema(input, url) };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return {
        checked: false,
        problems: [],
        note:
          `not checked against the database (${reason.slice(0, 300)}); ` +
          `every run checks its tables, columns and keys at its start`,
      };
    }
  }

  async putIn(
    repository: Repository,
    principal: Principal,
    name: string,
    input: ConnectorInput,
  ): Promise<Written<Connector>> {
    authorize(principal, 'connectors:write');
    requireAllCategories(principal, CONNECTOR_SCOPE);
    invalidConfig(input);
    if (input.system !== undefined && !(await repository.retention.getSystem(input.system))) {
      throw new AppError('SYSTEM_NOT_FOUND', `No system named "${input.system}".`);
    }
    const previous = await repository.requests.getConnector(name);
    const now = Date.now();
    const row: ConnectorRow = {
      name,
      type: input.type,
      url_env: input.urlEnv,
      system: input.system ?? null,
      description: input.description ?? null,
      tables: JSON.stringify(input.tables),
      created_at: previous?.created_at ?? now,
      updated_at: now,
    };
    if (
      previous &&
      previous.type === row.type &&
      previous.url_env === row.url_env &&
      previous.system === row.system &&
      previous.description === row.description &&
      previous.tables === row.tables
    ) {
      return { value: connectorRowToConnector(previous), created: false, changed: false };
    }
    await repository.requests.saveConnector(row);
    await audit(repository, principal, 'connector.put', `connector:${name}`);
    return { value: connectorRowToConnector(row), created: !previous, changed: true };
  }

  remove(principal: Principal, name: string): Promise<void> {
    return this.store.transaction((repository) => this.removeIn(repository, principal, name));
  }

  async removeIn(repository: Repository, principal: Principal, name: string): Promise<void> {
    authorize(principal, 'connectors:write');
    requireAllCategories(principal, CONNECTOR_SCOPE);
    if (!(await repository.requests.deleteConnector(name))) {
      throw new AppError('CONNECTOR_NOT_FOUND', `No connector named "${name}".`);
    }
    await audit(repository, principal, 'connector.delete', `connector:${name}`);
  }
}

/** The outcome of `ConnectorService.checkSchema`. */
export interface SchemaCheck {
  readonly checked: boolean;
  readonly problems: readonly ConfigProblem[];
  /** Why it was not checked. */
  readonly note?: string;
}

function invalidConfig(input: ConnectorInput): void {
  const problems = validateConnectorConfig(input);
  if (problems.length > 0) {
    const first = problems[0];
    throw new AppError('CONNECTOR_INVALID', `${first?.path}: ${first?.message}`, { problems });
  }
}

/** Refuses a config its database's catalog does not fit, listing every problem with its path. */
export function refuseMismatch(name: string, check: SchemaCheck): void {
  if (check.problems.length === 0) return;
  const list = check.problems.map((problem) => `${problem.path}: ${problem.message}`).join('; ');
  throw new AppError('CONNECTOR_SCHEMA_MISMATCH', `connector ${name}: ${list}`, {
    problems: check.problems,
  });
}

export function connectorRowToConnector(row: ConnectorRow): Connector {
  return {
    name: row.name,
    type: row.type as Connector['type'],
    urlEnv: row.url_env,
    ...(row.system !== null ? { system: row.system } : {}),
    ...(row.description !== null ? { description: row.description } : {}),
    tables: JSON.parse(row.tables) as Connector['tables'],
    createdAt: toIso(row.created_at),
    updatedAt: toIso(row.updated_at),
  };
}
