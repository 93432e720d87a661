import type { AuditEntry, AuditPage as AuditEntries, AuditVerification } from '@lethe/api';
import { useState, type FormEvent } from 'react';
import { callApi } from '../api.js';
import { DataTable, type Column } from '../components/data-table.js';
import { Page } from '../components/page.js';
import { ErrorNotice, Show } from '../components/status.js';
import { useSession } from '../session-context.js';
import { useAction } from '../use-action.js';
import { useApi } from '../use-api.js';
import { useTableQuery } from '../use-table-query.js';

const COLUMNS: readonly Column<AuditEntry>[] = [
  { key: 'seq', header: '#', cell: (entry) => entry.seq, className: 'number' },
  { key: 'at', header: 'When (UTC)', cell: (entry) => entry.at.replace('T', ' ').slice(0, 19) },
  { key: 'actor', header: 'Who', cell: (entry) => entry.actor },
  { key: 'action', header: 'Did', cell: (entry) => <code>{entry.action}</code> },
  { key: 'target', header: 'To', cell: (entry) => entry.target, className: 'wrap' },
  {
    key: 'hash',
    header: 'Hash',
    cell: (entry) => <code title={entry.hash}>{entry.hash.slice(0, 12)}…</code>,
  },
];

/**
 * The hash-chained audit log, oldest first as the API keeps it, a page at a time (`?page=`):
 * seqs run without gaps, so page n starts after entry (n-1)·size.
 */
export function AuditPage() {
  const query = useTableQuery();
  const [jump, setJump] = useState('');
  const entries = useApi<AuditEntries>(`/v1/audit?after=${query.offset}&limit=${query.pageSize}`);
  const goTo = (event: FormEvent) => {
    event.preventDefault();
    const seq = Number(jump);
    if (Number.isInteger(seq) && seq > 0) query.set({ page: String(Math.ceil(seq / query.pageSize)) });
  };
  return (
    <Page title="Audit log">
      <Verify />
      <h2>Entries</h2>
      <form className="inline-form" onSubmit={goTo}>
        <label htmlFor="audit-from">Page with entry</label>
        <input
          id="audit-from"
          type="number"
          min={1}
          step={1}
          value={jump}
          onChange={(event) => setJump(event.target.value)}
        />
        <button type="submit" className="secondary">
          Go
        </button>
      </form>
      <Show loaded={entries} what="the audit log">
        {(page) => (
          <DataTable
            label="Audit entries"
            testId="audit-entries"
            columns={COLUMNS}
            rows={page.items}
            rowKey={(entry) => String(entry.seq)}
            query={query}
            {...(page.total !== undefined ? { total: page.total } : {})}
            hasMore={page.next !== undefined}
            empty="No entries on this page."
          />
        )}
      </Show>
    </Page>
  );
}

function Verify() {
  const { token } = useSession();
  const [result, setResult] = useState<AuditVerification>();
  const verifying = useAction();
  const verify = () =>
    void verifying.run(async () => {
      setResult(await callApi<AuditVerification>(token, 'GET', '/v1/audit/verify'));
    });
  return (
    <section aria-labelledby="verify-heading">
      <h2 id="verify-heading">Chain verification</h2>
      <p className="muted">
        Recomputes every entry's hash from the first, and checks the signed checkpoints.
      </p>
      <button type="button" onClick={verify} disabled={verifying.pending}>
        {verifying.pending ? 'Verifying…' : 'Verify the chain'}
      </button>
      {verifying.error ? <ErrorNotice error={verifying.error} /> : null}
      {result ? (
        <div
          className={`notice ${result.ok ? 'notice-ok' : 'notice-error'}`}
          role="status"
          data-testid="verification"
        >
          {result.ok ? (
            <p>
              <strong>Intact.</strong> {result.checked.toLocaleString()} entries checked up to #
              {result.head.seq}, and {result.checkpointsChecked} signed checkpoint
              {result.checkpointsChecked === 1 ? '' : 's'}.
            </p>
          ) : (
            <p>
              <strong>Broken at entry #{result.firstBroken?.seq}:</strong> {result.firstBroken?.reason}
            </p>
          )}
          <p className="muted">
            Head hash <code>{result.head.hash}</code>
          </p>
        </div>
      ) : null}
    </section>
  );
}
