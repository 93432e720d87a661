import type { Hold, HoldInput, HoldList } from '@lethe/api';
import { useState, type FormEvent, type ReactNode } from 'react';
import { ApiError, callApi } from '../api.js';
import { TableSearch, type Column } from '../components/data-table.js';
import { LocalTable } from '../components/local-table.js';
import { Page } from '../components/page.js';
import { ErrorNotice, Show } from '../components/status.js';
import { dayOf } from '../format.js';
import { useCan } from '../permissions.js';
import { useSession } from '../session-context.js';
import { useAction } from '../use-action.js';
import { useApi } from '../use-api.js';
import { useTableQuery } from '../use-table-query.js';

const NAME_PATTERN = '[A-Za-z0-9][A-Za-z0-9._\\-]{0,127}';
const SCOPES = ['subjects', 'systems', 'categories', 'policies'] as const;
type Scope = (typeof SCOPES)[number];

/**
 * Legal holds (docs/retention.md "Legal holds"): who placed each, why, since when, over what, and
 * when to review it. A role with `holds:write` places, changes and releases them here; others read.
 */
export function HoldsPage() {
  const holds = useApi<HoldList>('/v1/holds');
  const mayWrite = useCan('holds:write');
  const [editing, setEditing] = useState<Hold | 'new'>();
  const [done, setDone] = useState<string>();
  const finished = (what: string) => {
    setDone(what);
    setEditing(undefined);
    holds.reload();
  };
  return (
    <Page
      title="Legal holds"
      actions={
        mayWrite && editing === undefined ? (
          <button type="button" onClick={() => setEditing('new')}>
            Place a hold…
          </button>
        ) : null
      }
    >
      <p className="muted">
        While a hold stands, the fields it covers leave the due feed and show as held, whatever their expiry.
        Releasing it makes what it kept past its expiry due again at once. Manifests may declare holds too;
        <code> lethe apply --prune</code> never releases one.
      </p>
      {done ? (
        <p className="notice notice-ok" role="status">
          {done}
        </p>
      ) : null}
      {editing !== undefined ? (
        <HoldForm
          key={editing === 'new' ? '+new' : editing.name}
          hold={editing === 'new' ? undefined : editing}
          onSaved={(name, created) => finished(`Hold ${name} ${created ? 'placed' : 'saved'}.`)}
          onCancel={() => setEditing(undefined)}
        />
      ) : null}
      <Show loaded={holds} what="the legal holds">
        {({ items }) =>
          items.length === 0 ? (
            <p data-testid="no-holds">No hold stands: everything expires as its policies say.</p>
          ) : (
            <HoldsTable
              holds={items}
              actions={
                mayWrite
                  ? (hold) => (
                      <div className="row-actions">
                        <button type="button" className="secondary" onClick={() => setEditing(hold)}>
                          Edit {hold.name}
                        </button>
                        <ReleaseControl
                          hold={hold}
                          onReleased={() => finished(`Hold ${hold.name} released.`)}
                        />
                      </div>
                    )
                  : undefined
              }
            />
          )
        }
      </Show>
    </Page>
  );
}

const HOLD_COLUMNS: readonly Column<Hold>[] = [
  { key: 'name', header: 'Hold', cell: (hold) => <strong>{hold.name}</strong>, value: (hold) => hold.name },
  { key: 'reason', header: 'Why', cell: (hold) => hold.reason, value: (hold) => hold.reason },
  { key: 'over', header: 'Over', cell: (hold) => <HoldScopeText hold={hold} />, value: holdScope },
  { key: 'since', header: 'Since', cell: (hold) => dayOf(hold.createdAt), value: (hold) => hold.createdAt },
  {
    key: 'by',
    header: 'By',
    cell: (hold) => (
      <>
        {hold.createdBy}
        {hold.updatedBy !== hold.createdBy || hold.updatedAt !== hold.createdAt ? (
          <span className="muted">
            {' '}
            · changed {dayOf(hold.updatedAt)} by {hold.updatedBy}
          </span>
        ) : null}
      </>
    ),
    value: (hold) => hold.createdBy,
  },
  {
    key: 'review',
    header: 'Review',
    cell: (hold) => (hold.reviewAt ? dayOf(hold.reviewAt) : '—'),
    // Holds without a review date sort after every dated one.
    value: (hold) => hold.reviewAt ?? '~',
  },
];

/** The standing holds, searched and sorted in the page (a few dozen at most, loaded whole). */
function HoldsTable(props: { holds: readonly Hold[]; actions: ((hold: Hold) => ReactNode) | undefined }) {
  const query = useTableQuery();
  const { actions } = props;
  const columns = actions
    ? [...HOLD_COLUMNS, { key: 'actions', header: 'Actions', cell: actions }]
    : HOLD_COLUMNS;
  return (
    <>
      <TableSearch label="Search holds" query={query} />
      <LocalTable
        label="Legal holds table"
        testId="holds"
        columns={columns}
        rows={props.holds}
        rowKey={(hold) => hold.name}
        query={query}
        empty="No hold matches."
      />
    </>
  );
}

/** "subjects u-1, u-2 · systems accounts", or "" for a hold without lists. */
function holdScope(hold: Hold): string {
  return SCOPES.filter((kind) => hold[kind] !== undefined)
    .map((kind) => `${kind} ${(hold[kind] ?? []).join(', ')}`)
    .join(' · ');
}

/** "subjects u-1, u-2 · systems accounts", or "everything" for a hold without lists. */
function HoldScopeText({ hold }: { hold: Hold }) {
  const scope = holdScope(hold);
  return scope ? <>{scope}</> : <strong>everything</strong>;
}

/** A comma- or line-separated list as typed; an empty one places no limit of its kind. */
function listOf(text: string): string[] | undefined {
  const values = text
    .split(/[,\n]/)
    .map((value) => value.trim())
    .filter(Boolean);
  return values.length ? values : undefined;
}

function HoldForm(props: {
  hold: Hold | undefined;
  onSaved: (name: string, created: boolean) => void;
  onCancel: () => void;
}) {
  const { hold } = props;
  const { token } = useSession();
  const [name, setName] = useState(hold?.name ?? '');
  const [reason, setReason] = useState(hold?.reason ?? '');
  const [lists, setLists] = useState<Record<Scope, string>>(() => ({
    subjects: hold?.subjects?.join(', ') ?? '',
    systems: hold?.systems?.join(', ') ?? '',
    categories: hold?.categories?.join(', ') ?? '',
    policies: hold?.policies?.join(', ') ?? '',
  }));
  const [reviewOn, setReviewOn] = useState(hold?.reviewAt ? dayOf(hold.reviewAt) : '');
  const save = useAction();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const holdName = hold?.name ?? name.trim();
    const path = `/v1/holds/${encodeURIComponent(holdName)}`;
    void save
      .run(async () => {
        if (!hold) {
          // PUT replaces: a new hold must not silently change a standing one of the same name.
          const standing = await callApi<Hold>(token, 'GET', path).catch((error: ApiError) => {
            if (error.status === 404) return undefined;
            throw error;
          });
          if (standing)
            throw new ApiError(409, 'DUPLICATE_NAME', `A hold named "${holdName}" stands already.`);
        }
        const input: HoldInput = { reason: reason.trim() };
        for (const kind of SCOPES) {
          const values = listOf(lists[kind]);
          if (values) input[kind] = values;
        }
        if (reviewOn) input.reviewAt = `${reviewOn}T00:00:00.000Z`;
        await callApi<Hold>(token, 'PUT', path, input);
      })
      .then((saved) => saved && props.onSaved(holdName, !hold));
  };
  const scopeField = (kind: Scope, label: string, help: string) => (
    <>
      <label htmlFor={`hold-${kind}`}>{label}</label>
      <input
        id={`hold-${kind}`}
        value={lists[kind]}
        onChange={(event) => setLists({ ...lists, [kind]: event.target.value })}
        aria-describedby={`hold-${kind}-help`}
      />
      <p id={`hold-${kind}-help`} className="muted">
        {help}
      </p>
    </>
  );
  return (
    <form
      onSubmit={submit}
      className="stacked-form notice"
      aria-label={hold ? `Change hold ${hold.name}` : 'Place a hold'}
    >
      <h2>{hold ? `Change hold ${hold.name}` : 'Place a hold'}</h2>
      {hold ? null : (
        <>
          <label htmlFor="hold-name">Name</label>
          <input
            id="hold-name"
            value={name}
            onChange={(event) => setName(event.target.value)}
            required
            pattern={NAME_PATTERN}
            title='Letters, digits, ".", "_" and "-", starting with a letter or digit'
          />
        </>
      )}
      <label htmlFor="hold-reason">Reason</label>
      <input
        id="hold-reason"
        value={reason}
        onChange={(event) => setReason(event.target.value)}
        required
        maxLength={2000}
        placeholder="Smith v. Acme, case 42"
      />
      <p className="muted">
        A field is held when it matches every list given (comma-separated); with no list the hold covers
        everything Lethe knows.
      </p>
      {scopeField('subjects', 'Subjects', 'Subject ids, e.g. u-1001.')}
      {scopeField('systems', 'Systems', 'The systems whose datasets hold the fields.')}
      {scopeField('categories', 'Data categories', 'A key covers the keys below it, e.g. user.contact.')}
      {scopeField('policies', 'Policies', 'The policies that decide the fields’ expiry.')}
      <label htmlFor="hold-review">Review on</label>
      <input
        id="hold-review"
        type="date"
        value={reviewOn}
        onChange={(event) => setReviewOn(event.target.value)}
      />
      <p className="muted">Advisory: a hold never ends by itself.</p>
      <div className="form-actions">
        <button type="submit" disabled={save.pending}>
          {hold ? 'Save hold' : 'Place hold'}
        </button>
        <button type="button" className="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
      {save.error ? <ErrorNotice error={save.error} /> : null}
    </form>
  );
}

/** Release, after a confirmation that says what releasing does. */
function ReleaseControl({ hold, onReleased }: { hold: Hold; onReleased: () => void }) {
  const { token } = useSession();
  const [confirming, setConfirming] = useState(false);
  const release = useAction();
  const confirm = () =>
    void release
      .run(async () => {
        await callApi(token, 'DELETE', `/v1/holds/${encodeURIComponent(hold.name)}`);
      })
      .then((done) => done && onReleased());
  if (!confirming) {
    return (
      <button type="button" className="secondary" onClick={() => setConfirming(true)}>
        Release {hold.name}…
      </button>
    );
  }
  return (
    <div className="notice notice-error" role="alertdialog" aria-labelledby={`release-${hold.name}`}>
      <p id={`release-${hold.name}`}>
        Release <strong>{hold.name}</strong>? What it kept past its expiry becomes due at once and systems
        will delete it.
      </p>
      <div className="form-actions">
        <button type="button" className="danger" onClick={confirm} disabled={release.pending}>
          Release {hold.name}
        </button>
        <button type="button" className="secondary" onClick={() => setConfirming(false)}>
          Cancel
        </button>
      </div>
      {release.error ? <ErrorNotice error={release.error} /> : null}
    </div>
  );
}
