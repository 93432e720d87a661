import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BODY_LIMIT_BYTES } from '@lethe/api';
import { afterAll, describe, expect, it } from 'vitest';
import { runLethe } from './support/lethe-process.js';

/**
 * `lethe apply -f` refuses a manifest file larger than the server's body limit before reading it
 * whole: a 41 MB manifest used to be parsed into 2.5 GB of memory only to meet the server's 413.
 */
const scratch = mkdtempSync(join(tmpdir(), 'lethe-apply-size-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A manifest of `count` valid policies. */
function policies(count: number): string {
  const entry = (i: number) =>
    `  - name: policy-${i}\n    purpose: essential.account\n    retention: P1Y\n    legalBasis: contract\n`;
  return `policies:\n${Array.from({ length: count }, (_, i) => entry(i)).join('')}`;
}

// No server listens there: the refusal must come before any request.
const NOWHERE = { LETHE_URL: 'http://127.0.0.1:9', LETHE_TOKEN: 'x' };

describe('lethe apply: the size of a manifest', { timeout: 90_000 }, () => {
  it('refuses a file over the body limit without reading it whole (a 64 MB heap is plenty)', async () => {
    const file = join(scratch, 'huge.yaml');
    const text = policies(250_000); // ~25 MB
    expect(text.length).toBeGreaterThan(20 * BODY_LIMIT_BYTES);
    writeFileSync(file, text);
    const result = await runLethe(['apply', '-f', file], {
      ...NOWHERE,
      NODE_OPTIONS: '--max-old-space-size=64',
    });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toBe(
      `lethe apply: ${file}: the file is larger than 1 MiB, the largest request the server takes; nothing was sent\n`,
    );
  });

  it('reads a file at the limit as usual (it gets as far as sending)', async () => {
    const file = join(scratch, 'fits.yaml');
    const header = policies(1);
    writeFileSync(file, `${header}${'#'.repeat(BODY_LIMIT_BYTES - header.length - 1)}\n`);
    const result = await runLethe(['apply', '-f', file], NOWHERE);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('NETWORK_ERROR');
  });
});
