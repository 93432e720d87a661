import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ROTATION_INTERVAL_MS, keyRotationFromEnv } from '../auth/signing-keys.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, requestTimeoutFromEnv } from '../http/request-timeout.js';
import { rateLimitFromEnv } from '../http/rate-limit.js';
import { requestSettingsFromEnv } from '../requests/request-settings.js';
import { DEFAULT_EVENT_ID_WINDOW, eventIdWindowFromEnv } from '../retention/journal/event-id-window.js';
import { DEFAULT_REQUEST_TICK_MS } from '../server.js';
import { natsSettingsFromEnv } from '../streams/nats-settings.js';
import { streamKeyRotationFromEnv } from '../streams/field-key-service.js';
import { DEFAULT_KEY_ROTATION_MS } from '../streams/field-crypto.js';
import { configurationTable, TABLE_END, TABLE_START } from './configuration-table.js';
import { fileKey, SETTINGS } from './setting-list.js';

const SRC = fileURLToPath(new URL('..', import.meta.url));
const DOC = fileURLToPath(new URL('../../../../docs/configuration.md', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Code lines, without comment lines: a comment may mention `process.env` in an example. */
function codeLines(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line));
}

/** A markdown table's rows, cell by cell, as prettier may have padded it or not. */
function tableRows(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim().replace(/^-+$/, '---')),
    );
}

describe('the declared settings', () => {
  it('are each declared once, with a file key of their own', () => {
    const envs = SETTINGS.map((setting) => setting.env);
    expect(new Set(envs).size).toBe(envs.length);
    expect(new Set(envs.map(fileKey)).size).toBe(envs.length);
  });

  it('are the table in docs/configuration.md (npm run docs:config writes it)', () => {
    const doc = readFileSync(DOC, 'utf8');
    const start = doc.indexOf(TABLE_START);
    const end = doc.indexOf(TABLE_END);
    expect(start, 'the table markers').toBeGreaterThan(0);
    expect(tableRows(doc.slice(start, end))).toEqual(tableRows(configurationTable()));
  });

  it('are all the server reads: process.env only in src/config, and no variable the list lacks', () => {
    const declared = new Set(SETTINGS.map((setting) => setting.env));
    // A declared default may look like a variable (the NATS stream `LETHE_EVENTS`): a value, not a read.
    const defaults = new Set(SETTINGS.flatMap((setting) => (setting.default ? [setting.default] : [])));
    const undeclared: string[] = [];
    const processEnv: string[] = [];
    for (const file of sourceFiles(SRC)) {
      const name = relative(SRC, file);
      const lines = codeLines(file);
      if (!name.startsWith('config/') && lines.some((line) => /\bprocess\.env\b/.test(line)))
        processEnv.push(name);
      for (const line of lines)
        for (const match of line.matchAll(
          /['"`]((?:LETHE_[A-Z0-9_]+)|PORT|DATABASE_URL|NATS_URL|LOG_LEVEL)['"`]/g,
        )) {
          const variable = match[1]!;
          if (!declared.has(variable) && !defaults.has(variable)) undeclared.push(`${name}: ${variable}`);
        }
    }
    expect(processEnv).toEqual([]);
    expect(undeclared).toEqual([]);
  });

  it("state the features' own defaults", () => {
    const defaults = Object.fromEntries(
      SETTINGS.flatMap((setting) => (setting.default === undefined ? [] : [[setting.env, setting.default]])),
    );
    expect(rateLimitFromEnv(defaults)).toEqual(rateLimitFromEnv({}));
    expect(requestTimeoutFromEnv(defaults)).toBe(DEFAULT_REQUEST_TIMEOUT_MS);
    expect(keyRotationFromEnv(defaults)).toBe(DEFAULT_ROTATION_INTERVAL_MS);
    expect(streamKeyRotationFromEnv(defaults)).toBe(DEFAULT_KEY_ROTATION_MS);
    expect(eventIdWindowFromEnv(defaults)).toEqual(DEFAULT_EVENT_ID_WINDOW);
    expect(requestSettingsFromEnv(defaults)).toEqual(requestSettingsFromEnv({}));
    expect(Number(defaults['LETHE_REQUEST_TICK_MS'])).toBe(DEFAULT_REQUEST_TICK_MS);
    const nats = { NATS_URL: 'nats://127.0.0.1:4222' };
    expect(natsSettingsFromEnv({ ...defaults, ...nats })).toEqual(natsSettingsFromEnv(nats));
  });
});
