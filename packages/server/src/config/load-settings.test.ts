import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { loadSettings } from './load-settings.js';

const scratch = mkdtempSync(join(tmpdir(), 'lethe-settings-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function configFile(name: string, text: string): string {
  const file = join(scratch, name);
  writeFileSync(file, text);
  return file;
}

describe('loadSettings', () => {
  const file = configFile('lethe.yaml', 'port: 7001\nhost: 10.0.0.1\nlog_level: debug\ndata_dir: ./data\n');

  it('takes a flag over the environment over the file over the default', () => {
    const settings = loadSettings({
      flags: { PORT: '7003', LETHE_CONFIG: file },
      env: { PORT: '7002', LETHE_HOST: '10.0.0.2' },
    });
    expect(settings.resolution('PORT')).toMatchObject({ value: '7003', source: 'flag', origin: '--port' });
    expect(settings.resolution('LETHE_HOST')).toMatchObject({ value: '10.0.0.2', source: 'environment' });
    expect(settings.resolution('LOG_LEVEL')).toMatchObject({ value: 'debug', source: 'file' });
    expect(settings.resolution('LETHE_REQUEST_TIMEOUT')).toMatchObject({ value: '60s', source: 'default' });
    expect(settings.file).toBe(file);
  });

  it('falls to the next source for each setting on its own, and reads the file named by LETHE_CONFIG', () => {
    const settings = loadSettings({ env: { LETHE_CONFIG: file, LOG_LEVEL: 'warn' } });
    expect(settings.get('PORT')).toBe('7001');
    expect(settings.get('LOG_LEVEL')).toBe('warn');
    expect(settings.get('LETHE_HOST')).toBe('10.0.0.1');
  });

  it('counts an empty value as unset, as it always did for variables', () => {
    const settings = loadSettings({ env: { LETHE_CONFIG: file, PORT: '' } });
    expect(settings.get('PORT')).toBe('7001');
  });

  it('reads paths in the file relative to the file, not to the working directory', () => {
    const settings = loadSettings({ env: { LETHE_CONFIG: file }, cwd: '/' });
    expect(settings.get('LETHE_DATA_DIR')).toBe(join(scratch, 'data'));
  });

  it('reads no file unless one is named, and gives defaults', () => {
    const settings = loadSettings({ env: {}, cwd: scratch });
    expect(settings.file).toBeUndefined();
    expect(settings.get('PORT')).toBe('7420');
    expect(settings.get('LETHE_DATA_DIR')).toBe('./lethe-data');
  });

  it('hands the features only what a source set, without the defaults', () => {
    const settings = loadSettings({ env: { LETHE_RATE_LIMIT: 'off' }, flags: { LETHE_CONFIG: file } });
    expect(settings.explicit).toEqual({
      LETHE_CONFIG: file,
      PORT: '7001',
      LETHE_HOST: '10.0.0.1',
      LOG_LEVEL: 'debug',
      LETHE_DATA_DIR: join(scratch, 'data'),
      LETHE_RATE_LIMIT: 'off',
    });
  });

  it('joins a YAML list for a list setting', () => {
    const lists = configFile('lists.yaml', 'nats_subjects: [a.>, b.>]\n');
    expect(loadSettings({ env: { LETHE_CONFIG: lists } }).get('LETHE_NATS_SUBJECTS')).toBe('a.>,b.>');
  });
});

describe('loadSettings refuses', () => {
  const refusal = (run: () => unknown): string => {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('no ConfigError');
  };

  it('never prints a refused secret: a connection URL names its scheme only', () => {
    const url = 'mysql://lethe:hunter2@db/lethe';
    const message = refusal(() => loadSettings({ env: { DATABASE_URL: url } }));
    expect(message).toMatch(/^DATABASE_URL must be/);
    expect(message).toContain('a mysql: value');
    expect(message).not.toContain('hunter2');
  });

  it('a value of the wrong type, naming the variable and the allowed values', () => {
    expect(refusal(() => loadSettings({ env: { PORT: 'http' } }))).toBe(
      'PORT must be an integer from 0 to 65535; got "http"',
    );
    expect(refusal(() => loadSettings({ env: { LOG_LEVEL: 'verbose' } }))).toBe(
      'LOG_LEVEL must be one of `fatal`, `error`, `warn`, `info`, `debug`, `trace`, `silent`; got "verbose"',
    );
    expect(refusal(() => loadSettings({ flags: { PORT: '70000' }, env: {} }))).toMatch(/^--port must be/);
    expect(refusal(() => loadSettings({ env: { LETHE_GRPC_INSECURE: 'yes' } }))).toContain(
      'LETHE_GRPC_INSECURE must be `true` or `false`',
    );
  });

  it('a bad value in the file, naming the key and the file', () => {
    const bad = configFile('bad-port.yaml', 'port: http\n');
    expect(refusal(() => loadSettings({ env: { LETHE_CONFIG: bad } }))).toBe(
      `port in ${bad} must be an integer from 0 to 65535; got "http"`,
    );
    const nested = configFile('nested.yaml', 'rate_limit: { per: s }\n');
    expect(refusal(() => loadSettings({ env: { LETHE_CONFIG: nested } }))).toContain(
      `rate_limit in ${nested} must be a rate like`,
    );
  });

  it('an unknown key in the file, naming the nearest one', () => {
    const typo = configFile('typo.yaml', 'rate_limt: 10/s\n');
    expect(refusal(() => loadSettings({ env: { LETHE_CONFIG: typo } }))).toContain(
      `${typo}: unknown setting "rate_limt"; did you mean "rate_limit"?`,
    );
    const variable = configFile('variable.yaml', 'LETHE_DATA_DIR: /x\n');
    expect(refusal(() => loadSettings({ env: { LETHE_CONFIG: variable } }))).toContain(
      'did you mean "data_dir"?',
    );
  });

  it('a secret in the file', () => {
    const secret = configFile('secret.yaml', 'master_key: abc\n');
    expect(refusal(() => loadSettings({ env: { LETHE_CONFIG: secret } }))).toContain(
      '"master_key" is not read from the configuration file; set LETHE_MASTER_KEY in the environment',
    );
  });

  it('a file that is missing, not YAML, or not a mapping', () => {
    const missing = join(scratch, 'missing.yaml');
    expect(refusal(() => loadSettings({ flags: { LETHE_CONFIG: missing }, env: {} }))).toBe(
      `cannot read the configuration file ${missing} (ENOENT); check --config or LETHE_CONFIG`,
    );
    const broken = configFile('broken.yaml', 'port: [7420\n');
    expect(refusal(() => loadSettings({ env: { LETHE_CONFIG: broken } }))).toContain(
      `${broken} is not valid YAML`,
    );
    const list = configFile('list.yaml', '- port\n');
    expect(refusal(() => loadSettings({ env: { LETHE_CONFIG: list } }))).toContain('must be a mapping');
  });
});
