import type { ConnectorInput } from '@lethe/api';
import { describe, expect, it } from 'vitest';
import {
  runSqlConnector,
  SqlConnectorError,
  type SqlRightsRun,
} from '../src/requests/sql-connectors/sql-connector.js';

describe('SQL connector connection failures', () => {
  const run: SqlRightsRun = { type: 'dsar', strategy: 'exact', identifiers: { email: 'a@example.com' } };
  const tables: ConnectorInput['tables'] = [{ name: 't', primaryKey: ['id'], columns: { email: ['email'] } }];

  it.each([
    ['postgres', 'postgres://lethe:s3cr3t-pw@127.0.0.1:1/nowhere'],
    ['mysql', 'mysql://lethe:s3cr3t-pw@127.0.0.1:1/nowhere'],
  ] as const)('%s: refused connection is retryable and the message hides the password', async (type, url) => {
    const failure = await runSqlConnector(
      'crm',
      { type, urlEnv: 'X', tables },
      url,
      run,
      async () => {},
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SqlConnectorError);
    expect((failure as SqlConnectorError).retryable).toBe(true);
    expect((failure as SqlConnectorError).message).not.toContain('s3cr3t-pw');
    expect((failure as SqlConnectorError).message).toContain('***');
  });

  it('sqlite: a missing file is not retryable; a URL of another database is refused', async () => {
    const missing = await runSqlConnector(
      'crm',
      { type: 'sqlite', urlEnv: 'X', tables },
      'sqlite:/nonexistent/dir/lethe.db',
      run,
      async () => {},
    ).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(SqlConnectorError);
    expect((missing as SqlConnectorError).retryable).toBe(false);

    const wrongScheme = await runSqlConnector(
      'crm',
      { type: 'sqlite', urlEnv: 'X', tables },
      'postgres://u:pw@localhost/db',
      run,
      async () => {},
    ).catch((error: unknown) => error);
    expect((wrongScheme as SqlConnectorError).retryable).toBe(false);
    expect((wrongScheme as SqlConnectorError).message).toMatch(/must start with sqlite:/);
  });
});
