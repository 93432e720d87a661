import type { Connector, ConnectorInput } from '@lethe/api';
import { authorize } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { validateConnectorConfig } from './sql-connectors/sql-connector.js';

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
export class ConnectorService {
  constructor(private readonly store: Store) {}

  async list(principal: Principal): Promise<Connector[]> {
    authorize(principal, 'connectors:read');
    return (await this.store.repository.requests.listConnectors()).map(connectorRowToConnector);
  }

  async get(principal: Principal, name: string): Promise<Connector> {
    authorize(principal, 'connectors:read');
    const row = await this.store.repository.requests.getConnector(name);
    if (!row) throw new AppError('CONNECTOR_NOT_FOUND', `No connector named "${name}".`);
    return connectorRowToConnector(row);
  }

  put(principal: Principal, name: string, input: ConnectorInput): Promise<Written<Connector>> {
    return this.store.transaction((repository) => this.putIn(repository, principal, name, input));
  }

  async putIn(
    repository: Repository,
    principal: Principal,
    name: string,
    input: ConnectorInput,
  ): Promise<Written<Connector>> {
    authorize(principal, 'connectors:write');
    const problems = validateConnectorConfig(input);
    if (problems.length > 0) {
      const first = problems[0];
      throw new AppError('CONNECTOR_INVALID', `${first?.path}: ${first?.message}`, { problems });
    }
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
    if (!(await repository.requests.deleteConnector(name))) {
      throw new AppError('CONNECTOR_NOT_FOUND', `No connector named "${name}".`);
    }
    await audit(repository, principal, 'connector.delete', `connector:${name}`);
  }
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
