import type { AuditPage as AuditEntries, AuditVerification } from '@lethe/api';
import { useState, type FormEvent } from 'react';
import { callApi } from '../api.js';
import { Page } from '../components/page.js';
import { ErrorNotice, Show } from '../components/status.js';
import { useSession } from '../session-context.js';
import { useAction } from '../use-action.js';
import { useApi } from '../use-api.js';
import { TableScroll } from '../components/table-scroll.js';

const PAGE_SIZE = 100;

/** The hash-chained audit log, oldest first as the API keeps it, and the check of its chain. */
export function AuditPage() {
  const [after, setAfter] = useState(0);
  const [jump, setJump] = useState('');
  const entries = useApi<AuditEntries>(`/v1/audit?after=${after}&limit=${PAGE_SIZE}`);
  const goTo = (event: FormEvent) => {
    event.preventDefault();
    const seq = Number(jump);
    if (Number.isInteger(seq) && seq > 0) setAfter(seq - 1);
  };
  return (
    <Page title="Audit log">
      <Verify />
      <h2>Entries</h2>
      <form className="inline-form" onSubmit={goTo}>
        <label htmlFor="audit-from">From entry</label>
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
          <>
            <TableScroll label="Audit entries table">
              <table data-testid="audit-entries">
                <thead>
                  <tr>
                    <th scope="col">#</th>
                    <th scope="col">When (UTC)</th>
                    <th scope="col">Who</th>
                    <th scope="col">Did</th>
                    <th scope="col">To</th>
                    <th scope="col">Hash</th>
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((entry) => (
                    <tr key={entry.seq}>
                      <td className="number">{entry.seq}</td>
                      <td>{entry.at.replace('T', ' ').slice(0, 19)}</td>
                      <td>{entry.actor}</td>
                      <td>
                        <code>{entry.action}</code>
                      </td>
                      <td className="wrap">{entry.target}</td>
                      <td>
                        <code title={entry.hash}>{entry.hash.slice(0, 12)}…</code>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableScroll>
            <div className="form-actions">
              <button
                type="button"
                className="secondary"
                disabled={after === 0}
                onClick={() => setAfter(Math.max(0, after - PAGE_SIZE))}
              >
                Older
              </button>
              <button
                type="button"
                className="secondary"
                disabled={page.next === undefined}
                onClick={() => page.next !== undefined && setAfter(page.next)}
              >
                Newer
              </button>
            </div>
          </>
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
