import type { RequestStatus, RequestTask, RightsRequest, TicketDoneInput, TicketFile } from '@lethe/api';
import { useEffect, useState, type FormEvent } from 'react';
import { callApi } from '../api.js';
import { DataTable, type Column } from '../components/data-table.js';
import { Page } from '../components/page.js';
import { ErrorNotice, Show } from '../components/status.js';
import { saveApiFile } from '../download.js';
import { dayOf } from '../format.js';
import { FINAL_REQUEST_STATUSES, spaced } from '../options.js';
import { useCan } from '../permissions.js';
import { Link } from '../router.js';
import { useSession } from '../session-context.js';
import { useAction } from '../use-action.js';
import { useApi } from '../use-api.js';
import { RequestSteps, TaskSteps } from './request-steps.js';
import { DaysLeft } from './requests-page.js';

const REFRESH_MS = 2_000;

/** One request: where it stands, each task with its attempts, tickets to mark done, the files. */
export function RequestPage({ id }: { id: string }) {
  const loaded = useApi<RightsRequest>(`/v1/requests/${encodeURIComponent(id)}`);
  const running =
    loaded.state === 'ready' &&
    !(FINAL_REQUEST_STATUSES as readonly RequestStatus[]).includes(loaded.data.status);
  const { reload } = loaded;
  // While the work runs the tasks change on their own: read again every two seconds.
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [running, reload]);
  return (
    <Page title={`Request ${id}`}>
      <p>
        <Link to="/requests">All requests</Link>
      </p>
      <Show loaded={loaded} what={`request ${id}`}>
        {(request) => (
          <>
            <RequestSummary request={request} />
            <RequestSteps request={request} onChanged={reload} />
            <Downloads request={request} />
            <h2>Tasks</h2>
            {request.tasks?.length ? (
              <ol className="tasks">
                {request.tasks.map((task) => (
                  <TaskItem key={task.task} request={request} task={task} onChanged={reload} />
                ))}
              </ol>
            ) : (
              <p className="muted">No tasks yet: they are planned when the work starts.</p>
            )}
          </>
        )}
      </Show>
    </Page>
  );
}

function RequestSummary({ request }: { request: RightsRequest }) {
  return (
    <dl className="facts" data-testid="request-summary">
      <dt>Type</dt>
      <dd>
        {spaced(request.type)} ({request.strategy}, {request.jurisdiction.toUpperCase()})
      </dd>
      <dt>Person</dt>
      <dd>{request.masked}</dd>
      <dt>Status</dt>
      <dd data-testid="request-status">
        {spaced(request.status)}
        {/* Why it failed, or what a legal hold kept from an erasure. */}
        {request.statusReason ? <span className="muted"> · {request.statusReason}</span> : null}
      </dd>
      <dt>Received</dt>
      <dd>{dayOf(request.receivedAt)}</dd>
      <dt>Due</dt>
      <dd data-testid="request-due">
        {dayOf(request.dueAt)} · days left: <DaysLeft request={request} />
        {request.extension ? (
          <span className="muted">
            {' '}
            · extended on {dayOf(request.extension.at)} by {request.extension.by}
            {request.extension.reason ? `: ${request.extension.reason}` : ''}
          </span>
        ) : null}
      </dd>
      <dt>Records found</dt>
      <dd>{request.rowsFound.toLocaleString()}</dd>
      {request.previouslyErasedBy ? (
        <>
          <dt>Erased before by</dt>
          <dd>{request.previouslyErasedBy}</dd>
        </>
      ) : null}
    </dl>
  );
}

function Downloads({ request }: { request: RightsRequest }) {
  const { token } = useSession();
  const download = useAction();
  const mayDownloadPackage = useCan('requests:package');
  const base = `/v1/requests/${encodeURIComponent(request.id)}`;
  return (
    <div className="form-actions">
      <button
        type="button"
        className="secondary"
        disabled={download.pending}
        onClick={() =>
          void download.run(() =>
            saveApiFile(token, `${base}/report?format=csv`, `${request.id}-report.csv`, 'text/csv'),
          )
        }
      >
        Download report (CSV)
      </button>
      {!mayDownloadPackage ? null : request.type === 'dsar' && request.status === 'completed' ? (
        <button
          type="button"
          className="secondary"
          disabled={download.pending}
          onClick={() =>
            void download.run(() =>
              saveApiFile(token, `${base}/package?format=html`, `${request.id}-package.html`, 'text/html'),
            )
          }
        >
          Download the person’s package (HTML)
        </button>
      ) : request.type === 'dsar' ? (
        <p className="muted">The person’s package can be downloaded once the request is completed.</p>
      ) : null}
      {download.error ? <ErrorNotice error={download.error} /> : null}
    </div>
  );
}

function TaskItem({
  request,
  task,
  onChanged,
}: {
  request: RightsRequest;
  task: RequestTask;
  onChanged: () => void;
}) {
  const isOpenTicket = task.protocol === 'ticket' && task.state === 'waiting';
  const mayCompleteTickets = useCan('tickets:complete');
  return (
    <li className="task" data-testid={`task-${task.task}`}>
      <p>
        <strong>
          {task.task}. {task.target}
        </strong>{' '}
        <span className="muted">
          ({task.targetKind}, {task.protocol}
          {task.system ? `, system ${task.system}` : ''}
          {task.team ? `, team ${task.team}` : ''})
        </span>{' '}
        — <span className={`state state-${task.state}`}>{task.state}</span>
        {task.rowsFound || task.rowsChanged ? ` · ${task.rowsFound} found, ${task.rowsChanged} changed` : ''}
      </p>
      {task.reasons.length ? <p className="muted">Why: {task.reasons.join('; ')}</p> : null}
      {task.lastError ? <p className="error-text">Last error: {task.lastError}</p> : null}
      {task.completedBy ? (
        <p className="muted">
          {task.state === 'skipped' ? 'Skipped' : 'Done'} by {task.completedBy}
          {task.completedAt ? ` on ${dayOf(task.completedAt)}` : ''}
          {task.note ? `: ${task.note}` : ''}
        </p>
      ) : null}
      {task.attemptLog.length ? (
        <details>
          <summary>
            {task.attempts} attempt{task.attempts === 1 ? '' : 's'}
            {task.nextAttemptAt ? `, next ${task.nextAttemptAt.replace('T', ' ').slice(0, 19)}` : ''}
          </summary>
          <DataTable
            label={`Attempts of ${task.target}`}
            columns={ATTEMPT_COLUMNS}
            rows={task.attemptLog}
            rowKey={(attempt) => String(attempt.attempt)}
            empty="No attempts."
          />
        </details>
      ) : null}
      {isOpenTicket && mayCompleteTickets ? (
        <TicketDone request={request} task={task} onDone={onChanged} />
      ) : null}
      <TaskSteps request={request} task={task} onChanged={onChanged} />
      {task.erasurePlan ? <ErasurePlanView request={request} task={task} onApproved={onChanged} /> : null}
    </li>
  );
}

/** A connector erasure's rows per table; over the threshold it waits here for a DPO's approval. */
function ErasurePlanView({
  request,
  task,
  onApproved,
}: {
  request: RightsRequest;
  task: RequestTask;
  onApproved: () => void;
}) {
  const { token } = useSession();
  const approve = useAction();
  const mayApprove = useCan('requests:manage');
  const plan = task.erasurePlan;
  if (!plan) return null;
  const waits = task.state === 'waiting_approval';
  const url = `/v1/requests/${encodeURIComponent(request.id)}/tasks/${task.task}/approve`;
  return (
    <div className="erasure-plan">
      <p className={waits ? 'error-text' : 'muted'}>
        {waits
          ? `Waits for approval: more than ${plan.threshold} rows in ${plan.held.join(', ')}.`
          : 'Rows erased per table:'}
        {plan.approved ? ` Approved by ${plan.approved.by} on ${dayOf(plan.approved.at)}.` : ''}
      </p>
      <ul>
        {Object.entries(plan.rows).map(([table, rows]) => (
          <li key={table}>
            {table}: {rows} row{rows === 1 ? '' : 's'}
            {plan.held.includes(table) ? ' (over the threshold)' : ''}
          </li>
        ))}
      </ul>
      {waits && mayApprove ? (
        <button
          type="button"
          disabled={approve.pending}
          onClick={() =>
            void approve.run(() => callApi(token, 'POST', url, {})).then((ok) => ok && onApproved())
          }
        >
          Approve this erasure
        </button>
      ) : null}
      {approve.error ? <ErrorNotice error={approve.error} /> : null}
    </div>
  );
}

/** A ticket task: the team did the work by hand, and a person says so here. */
function TicketDone({
  request,
  task,
  onDone,
}: {
  request: RightsRequest;
  task: RequestTask;
  onDone: () => void;
}) {
  const { token } = useSession();
  const [note, setNote] = useState('');
  const [deleted, setDeleted] = useState('');
  const [records, setRecords] = useState('');
  const [file, setFile] = useState<File>();
  const [invalid, setInvalid] = useState<string>();
  const done = useAction();
  const erases = request.type !== 'dsar';
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const parsed = erases ? undefined : parseRecords(records);
    if (typeof parsed === 'string') {
      setInvalid(parsed);
      return;
    }
    if (!erases && file && file.size > FILE_LIMIT_BYTES) {
      setInvalid(`${file.name} is larger than 5 MiB.`);
      return;
    }
    setInvalid(undefined);
    void done
      .run(async () => {
        const attached = !erases && file ? await ticketFile(file) : undefined;
        const input: TicketDoneInput = {
          ...(note.trim() ? { note: note.trim() } : {}),
          ...(erases && deleted.trim() ? { deleted: Number(deleted) } : {}),
          ...(parsed ? { records: parsed } : {}),
          ...(attached ? { file: attached } : {}),
        };
        await callApi(
          token,
          'POST',
          `/v1/requests/${encodeURIComponent(request.id)}/tasks/${task.task}/complete`,
          input,
        );
      })
      .then((ok) => ok && onDone());
  };
  const prefix = `ticket-${task.task}`;
  return (
    <form className="ticket-form" onSubmit={submit} aria-label={`Mark ticket ${task.task} done`}>
      <label htmlFor={`${prefix}-note`}>Note</label>
      <input
        id={`${prefix}-note`}
        value={note}
        onChange={(event) => setNote(event.target.value)}
        maxLength={2000}
      />
      {erases ? (
        <>
          <label htmlFor={`${prefix}-deleted`}>Records deleted</label>
          <input
            id={`${prefix}-deleted`}
            type="number"
            min={0}
            step={1}
            value={deleted}
            onChange={(event) => setDeleted(event.target.value)}
          />
        </>
      ) : (
        <>
          <label htmlFor={`${prefix}-records`}>Records found (JSON)</label>
          <textarea
            id={`${prefix}-records`}
            rows={4}
            value={records}
            placeholder='[{"dataset": "tickets", "pk": "17", "fields": {"subject": "Refund"}}]'
            aria-describedby={`${prefix}-records-help`}
            onChange={(event) => setRecords(event.target.value)}
          />
          <p id={`${prefix}-records-help`} className="muted">
            A JSON array of records, each with its fields (at most 1 MiB); they go into the person’s package.
          </p>
          <label htmlFor={`${prefix}-file`}>File for the person (at most 5 MiB)</label>
          <input id={`${prefix}-file`} type="file" onChange={(event) => setFile(event.target.files?.[0])} />
        </>
      )}
      {invalid ? (
        <p className="error-text" role="alert">
          {invalid}
        </p>
      ) : null}
      {done.error ? <ErrorNotice error={done.error} /> : null}
      <div className="form-actions">
        <button type="submit" disabled={done.pending}>
          Mark ticket done
        </button>
      </div>
    </form>
  );
}

const FILE_LIMIT_BYTES = 5 * 1024 * 1024;

/** The records typed in: a JSON array of objects each with `fields`, or what is wrong with it. */
function parseRecords(text: string): TicketDoneInput['records'] | string {
  if (!text.trim()) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'The records are not valid JSON.';
  }
  if (!Array.isArray(value)) return 'The records must be a JSON array.';
  const records = value as unknown[];
  const wrong = records.findIndex(
    (record) =>
      typeof record !== 'object' ||
      record === null ||
      typeof (record as { fields?: unknown }).fields !== 'object' ||
      (record as { fields?: unknown }).fields === null,
  );
  if (wrong >= 0) return `Record ${wrong + 1} needs an object of fields, e.g. {"fields": {"name": "…"}}.`;
  return records as TicketDoneInput['records'];
}

/** The chosen file, in base64 as the API takes it. */
async function ticketFile(file: File): Promise<TicketFile> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  for (let at = 0; at < bytes.length; at += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(at, at + 0x8000));
  }
  return {
    name: file.name,
    contentType: file.type || 'application/octet-stream',
    contentBase64: btoa(binary),
  };
}

const clock = (at: string) => at.replace('T', ' ').slice(0, 19);

/** A task's attempts in the order they ran: a short log read top to bottom, neither sorted nor paged. */
const ATTEMPT_COLUMNS: readonly Column<RequestTask['attemptLog'][number]>[] = [
  { key: 'attempt', header: 'Attempt', cell: (attempt) => attempt.attempt, className: 'number' },
  { key: 'started', header: 'Started', cell: (attempt) => clock(attempt.startedAt) },
  {
    key: 'finished',
    header: 'Finished',
    cell: (attempt) => (attempt.finishedAt ? clock(attempt.finishedAt) : '—'),
  },
  { key: 'outcome', header: 'Outcome', cell: (attempt) => attempt.error ?? attempt.outcome ?? '—' },
];
