import type { SubjectConsent, SubjectField, SubjectRetention } from '@lethe/api';
import { ExpireNowControl } from '../components/expire-now-control.js';
import { useState, type FormEvent } from 'react';
import type { Column } from '../components/data-table.js';
import { LocalTable } from '../components/local-table.js';
import { Page } from '../components/page.js';
import { ErrorNotice, Loading, Show } from '../components/status.js';
import { SubjectConsentSection } from '../components/subject-consent.js';
import { usedWithoutConsent } from '../consent.js';
import { dayOf, isPast, relativeDays } from '../format.js';
import { navigate } from '../router.js';
import { useApi, type Loaded } from '../use-api.js';
import { useTableQuery } from '../use-table-query.js';

/** "Why do we hold this?": every field of one person, its expiry, and the use that decides it. */
export function SubjectPage({ subject }: { subject: string | undefined }) {
  const [typed, setTyped] = useState(subject ?? '');
  const path = subject ? `/v1/subjects/${encodeURIComponent(subject)}` : undefined;
  const retention = useApi<SubjectRetention>(path);
  // Read beside the subject view, not after it: consent can be recorded for a person no system
  // has reported a use of yet, and the page shows it then too.
  const consent = useApi<SubjectConsent>(path && `${path}/consent`);
  const lookUp = (event: FormEvent) => {
    event.preventDefault();
    const id = typed.trim();
    if (id) navigate(`/subjects/${encodeURIComponent(id)}`);
  };
  return (
    <Page title={subject ? `Why do we hold ${subject}?` : 'Subject lookup'}>
      <form className="inline-form" onSubmit={lookUp} role="search">
        <label htmlFor="subject-id">Subject id</label>
        <input
          id="subject-id"
          value={typed}
          onChange={(event) => setTyped(event.target.value)}
          placeholder="u-1001"
          required
          maxLength={256}
        />
        <button type="submit">Look up</button>
      </form>
      {subject ? (
        <SubjectAnswer subject={subject} retention={retention} consent={consent} />
      ) : (
        <p className="muted">Type the id your systems use for a person, as in the telemetry they send.</p>
      )}
    </Page>
  );
}

/**
 * The subject view with the subject's consent. A subject Lethe has no uses of (`404` from the
 * subject view) may still have consent recorded: then the consent is shown, under a note that
 * there is nothing else; "not found" only when there is neither.
 */
function SubjectAnswer(props: {
  subject: string;
  retention: Loaded<SubjectRetention> & { reload: () => void };
  consent: Loaded<SubjectConsent> & { reload: () => void };
}) {
  const { subject, retention, consent } = props;
  const what = `what we hold about ${subject}`;
  if (retention.state === 'failed' && retention.error.status === 404) {
    if (consent.state === 'loading') return <Loading what={what} />;
    if (consent.state === 'failed' || consent.data.history.length === 0)
      return <ErrorNotice error={retention.error} />;
    return (
      <>
        <div className="notice" data-testid="no-uses">
          <p>
            <strong>Lethe has no recorded uses of {subject}.</strong> No system has reported using this
            person's data, so there is no field and no expiry to show; what Lethe holds is the consent
            recorded for them, below.
          </p>
        </div>
        <SubjectConsentSection subject={subject} consent={consent} />
      </>
    );
  }
  return (
    <Show loaded={retention} what={what}>
      {(data) => (
        <>
          <SubjectRetentionView retention={data} />
          <ExpireNowControl retention={data} onExpired={retention.reload} />
          <SubjectConsentSection subject={subject} consent={consent} />
        </>
      )}
    </Show>
  );
}

function SubjectRetentionView({ retention }: { retention: SubjectRetention }) {
  const expired = isPast(retention.expiresAt);
  const uses = retention.fields
    .flatMap((field) => field.uses.map((use) => ({ ...use, field: field.field })))
    .sort((a, b) => b.lastUseAt.localeCompare(a.lastUseAt));
  return (
    <>
      <div className={`notice ${expired ? 'notice-error' : 'notice-ok'}`} data-testid="subject-expiry">
        <p>
          <strong>
            {expired ? 'Expired' : 'Held until'} {dayOf(retention.expiresAt)}
          </strong>{' '}
          ({relativeDays(retention.expiresAt)}).{' '}
          {expired ? 'Every field is past its retention: the data should be gone.' : null}
        </p>
        <p>
          Decided by <code>{retention.decidedBy.field}</code> under policy{' '}
          <strong>{retention.decidedBy.policy}</strong> in system{' '}
          <strong>{retention.decidedBy.system}</strong>: the field kept longest.
        </p>
      </div>
      <h2>Fields</h2>
      <FieldsTable fields={retention.fields} />
      <h2>Timeline of uses</h2>
      <ol className="timeline" data-testid="timeline">
        {uses.map((use) => {
          const withoutConsent = usedWithoutConsent(use);
          return (
            <li
              key={`${use.field}/${use.policy}/${use.system}`}
              className={withoutConsent ? 'without-consent' : ''}
            >
              <strong>{dayOf(use.lastUseAt)}</strong> <code>{use.field}</code> used by {use.system} for{' '}
              {use.policy} ({use.count} time{use.count === 1 ? '' : 's'} since {dayOf(use.firstUseAt)}); this
              use alone keeps it until {dayOf(use.keepsUntil)}.
              {withoutConsent ? (
                <>
                  {' '}
                  <span className="badge badge-alert">without consent</span> No consent to{' '}
                  <code>{use.consentPurpose}</code> stood at this use
                  {use.lastConsentedUseAt
                    ? ` (the latest consented one: ${dayOf(use.lastConsentedUseAt)})`
                    : ' (none of its uses was consented)'}
                  : it keeps nothing beyond the use itself.
                </>
              ) : null}
            </li>
          );
        })}
      </ol>
    </>
  );
}

const FIELD_COLUMNS: readonly Column<SubjectField>[] = [
  {
    key: 'field',
    header: 'Field',
    cell: (field) => <code>{field.field}</code>,
    value: (field) => field.field,
  },
  { key: 'system', header: 'System', cell: (field) => field.system, value: (field) => field.system },
  {
    key: 'expires',
    header: 'Expires',
    cell: (field) =>
      field.waitingFor ? (
        // An event-anchored policy: the expiry is a placeholder until the subject's event arrives.
        <span data-testid="waiting-for">waiting for {field.waitingFor}</span>
      ) : (
        <>
          {dayOf(field.expiresAt)} <span className="muted">({relativeDays(field.expiresAt)})</span>
        </>
      ),
    // Waiting fields have no real date yet: they sort after every dated one.
    value: (field) => (field.waitingFor ? '~' : field.expiresAt),
  },
  { key: 'policy', header: 'Deciding policy', cell: (field) => field.policy, value: (field) => field.policy },
  {
    key: 'used',
    header: 'Last use',
    cell: (field) => dayOf(field.lastUseAt),
    value: (field) => field.lastUseAt,
  },
  {
    key: 'erasure',
    header: 'Erasure',
    cell: (field) => (
      <>
        {field.erasedAt ? `erased ${dayOf(field.erasedAt)}` : '—'}
        {field.reappearedAt ? <strong> · used again {dayOf(field.reappearedAt)}</strong> : null}
      </>
    ),
    value: (field) => field.erasedAt ?? '',
  },
  { key: 'hold', header: 'Hold or decision', cell: (field) => <FieldDecision field={field} /> },
];

/**
 * A subject's fields, loaded whole with the subject: sorted and paged in the page. No search box:
 * the page's search is the subject lookup above it, and a person has tens of fields, not thousands.
 */
function FieldsTable({ fields }: { fields: readonly SubjectField[] }) {
  const query = useTableQuery();
  return (
    <LocalTable
      label="Fields table"
      testId="fields"
      columns={FIELD_COLUMNS}
      rows={fields}
      rowKey={(field) => field.field}
      query={query}
      empty="No fields."
    />
  );
}

function FieldDecision({ field }: { field: SubjectField }) {
  return (
    <>
      {/* A hold wins over the expiry: the field must not be deleted while it stands. */}
      {field.hold ? (
        <>
          <span className="badge badge-warn">held: {field.hold.name}</span>{' '}
          <span className="muted">
            since {dayOf(field.hold.since)} by {field.hold.by}: {field.hold.reason}
          </span>
        </>
      ) : null}
      {field.expireNow ? (
        <span className="muted">
          {field.hold ? ' · ' : ''}expired now {dayOf(field.expireNow.at)} by {field.expireNow.by}:{' '}
          {field.expireNow.reason}
        </span>
      ) : null}
      {field.hold || field.expireNow ? null : '—'}
    </>
  );
}
