import type { Policy, PolicyInput, PolicyRecompute, PolicyVersion } from '@lethe/api';
import { useEffect, useState, type FormEvent } from 'react';
import { ApiError, callApi } from '../api.js';
import { AgingField, agingInWords } from '../components/aging-field.js';
import { DataTable, type Column } from '../components/data-table.js';
import { Page } from '../components/page.js';
import { PolicyChangeOutcomePanel, type PolicyChangeOutcome } from '../components/policy-change-outcome.js';
import { fieldCount, RetentionChange, useRetentionPreview } from '../components/retention-preview.js';
import { ErrorNotice, Show } from '../components/status.js';
import { dayOf } from '../format.js';
import { LEGAL_BASES, spaced } from '../options.js';
import { useCan } from '../permissions.js';
import { Link, navigate } from '../router.js';
import { useSession } from '../session-context.js';
import { useAction } from '../use-action.js';
import { useApi } from '../use-api.js';

export const NEW_POLICY_PATH = '/policies/+new';

const NAME_PATTERN = '[A-Za-z0-9][A-Za-z0-9._\\-]{0,127}';

/** One policy: its summary, the form to change it (with the preview of a retention change), retiring it, its history. */
export function PolicyPage({ name }: { name: string | undefined }) {
  const loaded = useApi<Policy>(name ? `/v1/policies/${encodeURIComponent(name)}` : undefined);
  // A role that only reads sees the policy and its history, no form.
  const mayWrite = useCan('policies:write');
  const [retired, setRetired] = useState(false);
  const [outcome, setOutcome] = useState<PolicyChangeOutcome>();
  const afterSave = (saved: PolicyChangeOutcome) => {
    setOutcome(saved);
    setRetired(false);
    loaded.reload();
  };
  const afterRetire = () => {
    setRetired(true);
    setOutcome(undefined);
    loaded.reload();
  };
  if (name === undefined) {
    return (
      <Page title="New policy">
        <PolicyForm />
      </Page>
    );
  }
  return (
    <Page title={`Policy ${name}`}>
      <p>
        <Link to="/policies">All policies</Link>
      </p>
      <Show loaded={loaded} what={`policy ${name}`}>
        {(policy) => (
          <>
            <p data-testid="policy-status">
              Version {policy.version}, {policy.status}
              {policy.retiredAt ? ` since ${dayOf(policy.retiredAt)}` : ''}; changed {dayOf(policy.updatedAt)}
              .
            </p>
            <p data-testid="policy-aging">
              Keeps data <code>{policy.retention}</code> counted from {agingInWords(policy.since)}.
            </p>
            {policy.recompute ? (
              <RecomputeProgress recompute={policy.recompute} onTick={loaded.reload} />
            ) : null}
            {retired ? (
              <p className="notice notice-ok" role="status">
                Retired.
              </p>
            ) : null}
            {outcome ? (
              <PolicyChangeOutcomePanel outcome={outcome} onDismiss={() => setOutcome(undefined)} />
            ) : null}
            {policy.status === 'active' && mayWrite ? (
              <>
                <h2>Change</h2>
                <PolicyForm key={policy.version} policy={policy} onSaved={afterSave} />
                <RetireControl policy={policy} onRetired={afterRetire} />
              </>
            ) : policy.status === 'retired' ? (
              <p className="notice">Retired: events under it are refused. Saving it again re-activates it.</p>
            ) : null}
            {/* Keyed by version: a save or retire reads the history again. */}
            <Versions key={policy.version} name={policy.name} />
          </>
        )}
      </Show>
    </Page>
  );
}

/** A recompute of the policy's expiries under way (a background job): read again every second until it ends. */
function RecomputeProgress({ recompute, onTick }: { recompute: PolicyRecompute; onTick: () => void }) {
  useEffect(() => {
    const timer = setInterval(onTick, 1_000);
    return () => clearInterval(timer);
  }, [onTick]);
  const { done, total } = recompute.progress;
  return (
    <div className="notice" data-testid="policy-recompute" aria-live="polite">
      <p>
        Recomputing expiries for this version ({recompute.state}): {done.toLocaleString()}
        {total !== undefined ? ` of ${total.toLocaleString()}` : ''} subject fields. Until it ends, some
        expiries may still follow the previous version.
      </p>
      {total ? <progress max={total} value={done} aria-label="Recompute progress" /> : null}
    </div>
  );
}

function PolicyForm({
  policy,
  onSaved,
}: {
  policy?: Policy;
  onSaved?: (outcome: PolicyChangeOutcome) => void;
}) {
  const { token } = useSession();
  const [name, setName] = useState(policy?.name ?? '');
  const [purpose, setPurpose] = useState(policy?.purpose ?? '');
  const [retention, setRetention] = useState(policy?.retention ?? '');
  const [legalBasis, setLegalBasis] = useState<string>(policy?.legalBasis ?? 'contract');
  const [since, setSince] = useState(policy?.since ?? 'last-use');
  const [description, setDescription] = useState(policy?.description ?? '');
  const [reason, setReason] = useState('');
  // Saving a change that makes fields due at once asks first (docs/dashboard.md, "Policies").
  const [confirming, setConfirming] = useState(false);
  const save = useAction();

  const retentionChanged =
    policy !== undefined && (retention.trim() !== policy.retention || since !== policy.since);
  // The server refuses such a change without a reason (POLICY_CHANGE_REASON_REQUIRED).
  const reasonRequired = retentionChanged || (policy !== undefined && legalBasis !== policy.legalBasis);
  const path = `/v1/policies/${encodeURIComponent(policy?.name ?? name.trim())}`;
  const retentionPreview = useRetentionPreview(path, retention, since);
  const preview = retentionPreview.preview;
  const dueAtOnce = retentionChanged ? (preview?.dueAtOnce ?? 0) : 0;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (dueAtOnce > 0 && !confirming) {
      setConfirming(true);
      return;
    }
    setConfirming(false);
    void save.run(async () => {
      if (!policy) await refuseExisting(token, path, name.trim());
      const input = policyInput({ purpose, retention, legalBasis, since, description, reason });
      const after = await callApi<Policy>(token, 'PUT', path, input);
      if (!policy) return navigate(`/policies/${encodeURIComponent(name.trim())}`);
      onSaved?.({
        before: policy,
        after,
        ...(input.reason ? { reason: input.reason } : {}),
        ...(retentionChanged && preview ? { preview } : {}),
      });
    });
  };

  return (
    <form
      onSubmit={submit}
      className="stacked-form"
      aria-label={policy ? `Change policy ${policy.name}` : 'New policy'}
    >
      {policy ? null : <NameField value={name} onChange={setName} />}
      <label htmlFor="policy-purpose">Purpose</label>
      <input
        id="policy-purpose"
        value={purpose}
        onChange={(event) => setPurpose(event.target.value)}
        required
        aria-describedby="policy-purpose-help"
      />
      <p id="policy-purpose-help" className="muted">
        A dotted purpose key from the taxonomy, e.g. <code>essential.orders</code> or{' '}
        <code>marketing.email</code>.
      </p>
      <label htmlFor="policy-retention">Retention</label>
      <input
        id="policy-retention"
        value={retention}
        onChange={(event) => setRetention(event.target.value)}
        required
        aria-describedby="policy-retention-help"
      />
      <p id="policy-retention-help" className="muted">
        An ISO 8601 duration: <code>P120D</code>, <code>P6M</code>, <code>P2Y</code>.
      </p>
      <AgingField since={since} onChange={setSince} />
      <label htmlFor="policy-legal-basis">Legal basis</label>
      <select
        id="policy-legal-basis"
        value={legalBasis}
        onChange={(event) => setLegalBasis(event.target.value)}
      >
        {LEGAL_BASES.map((basis) => (
          <option key={basis} value={basis}>
            {basis.replace(/_/g, ' ')}
          </option>
        ))}
      </select>
      <label htmlFor="policy-description">Description</label>
      <textarea
        id="policy-description"
        rows={2}
        maxLength={2000}
        value={description}
        onChange={(event) => setDescription(event.target.value)}
      />
      {retentionChanged ? (
        <RetentionChange
          from={`${policy.retention} from ${agingInWords(policy.since)}`}
          to={`${retention.trim()} from ${agingInWords(since)}`}
          retentionPreview={retentionPreview}
        />
      ) : null}
      <ReasonField required={reasonRequired} value={reason} onChange={setReason} />
      {save.error ? <ErrorNotice error={save.error} /> : null}
      <SaveActions
        confirming={confirming ? dueAtOnce : undefined}
        pending={save.pending}
        disabled={retentionChanged && !preview}
        label={policy ? 'Save' : 'Create policy'}
        onCancel={() => setConfirming(false)}
      />
    </form>
  );
}

/** PUT replaces: a new policy must not silently overwrite one of the same name. */
async function refuseExisting(token: string, path: string, name: string): Promise<void> {
  const existing = await callApi<Policy>(token, 'GET', path).catch((error: ApiError) => {
    if (error.status === 404) return undefined;
    throw error;
  });
  if (existing) throw new ApiError(409, 'DUPLICATE_NAME', `A policy named "${name}" exists already.`);
}

/** A new policy's name: what systems name in their telemetry, fixed once created. */
function NameField({ value, onChange }: { value: string; onChange: (name: string) => void }) {
  return (
    <>
      <label htmlFor="policy-name">Name</label>
      <input
        id="policy-name"
        value={value}
        onChange={(event) => onChange(event.target.value)}
        required
        pattern={NAME_PATTERN}
        title='Letters, digits, ".", "_" and "-", starting with a letter or digit'
        aria-describedby="policy-name-help"
      />
      <p id="policy-name-help" className="muted">
        What systems name in their telemetry, e.g. <code>order-delivery</code>. It cannot change later.
      </p>
    </>
  );
}

/** Why the policy changes; the server refuses a change that moves expiries without one. */
function ReasonField({
  required,
  value,
  onChange,
}: {
  required: boolean;
  value: string;
  onChange: (reason: string) => void;
}) {
  return (
    <>
      <label htmlFor="policy-reason">{required ? 'Reason for the change' : 'Reason (optional)'}</label>
      <textarea
        id="policy-reason"
        rows={2}
        maxLength={2000}
        value={value}
        onChange={(event) => onChange(event.target.value)}
        required={required}
        aria-describedby="policy-reason-help"
      />
      <p id="policy-reason-help" className="muted">
        Kept with the new version in the history and in the audit log. Required when the retention, what it
        counts from or the legal basis changes.
      </p>
    </>
  );
}

/**
 * The form's submit button, or while `confirming` (the fields a previewed change makes due at
 * once) the question asked before it is sent; its Save submits the form again.
 */
function SaveActions({
  confirming: dueAtOnce,
  pending,
  disabled,
  label,
  onCancel,
}: {
  confirming: number | undefined;
  pending: boolean;
  disabled: boolean;
  label: string;
  onCancel: () => void;
}) {
  if (dueAtOnce === undefined) {
    return (
      <div className="form-actions">
        <button type="submit" disabled={pending || disabled}>
          {pending ? 'Saving…' : label}
        </button>
      </div>
    );
  }
  return (
    <div className="notice notice-error" role="alertdialog" aria-labelledby="due-at-once-question">
      <p id="due-at-once-question">
        Saving makes <strong>{fieldCount(dueAtOnce)}</strong> due at once: the systems that hold them must
        delete them today. Save anyway?
      </p>
      <div className="form-actions">
        <button type="submit" className="danger" disabled={pending}>
          Save and make {fieldCount(dueAtOnce)} due
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}

/** The form's values as the API takes them: trimmed, an empty description or reason left out. */
function policyInput(values: Required<Omit<PolicyInput, 'dataSubjects' | 'reviewedOn'>>): PolicyInput {
  return {
    purpose: values.purpose.trim(),
    retention: values.retention.trim(),
    legalBasis: values.legalBasis,
    since: values.since,
    ...(values.description.trim() ? { description: values.description.trim() } : {}),
    ...(values.reason.trim() ? { reason: values.reason.trim() } : {}),
  };
}

/**
 * Retire, after a confirmation that asks why: the server requires a reason, kept on the retired
 * version and in the audit log (`DELETE /v1/policies/{name}?reason=`).
 */
function RetireControl({ policy, onRetired }: { policy: Policy; onRetired: () => void }) {
  const { token } = useSession();
  const [confirming, setConfirming] = useState(false);
  const [reason, setReason] = useState('');
  const retire = useAction();
  const why = reason.trim();
  const confirm = (event: FormEvent) => {
    event.preventDefault();
    if (!why) return;
    const query = new URLSearchParams({ reason: why });
    void retire
      .run(async () => {
        await callApi(token, 'DELETE', `/v1/policies/${encodeURIComponent(policy.name)}?${query.toString()}`);
      })
      .then((done) => done && onRetired());
  };
  return (
    <section aria-labelledby="retire-heading">
      <h2 id="retire-heading">Retire</h2>
      {confirming ? (
        <form
          className="notice notice-error"
          role="alertdialog"
          aria-labelledby="retire-question"
          onSubmit={confirm}
        >
          <p id="retire-question">
            Retire <strong>{policy.name}</strong>? Systems can no longer send events under it; what it already
            keeps still expires as computed.
          </p>
          <label htmlFor="retire-reason">Reason (kept in the history and the audit log)</label>
          <textarea
            id="retire-reason"
            required
            maxLength={2000}
            value={reason}
            onChange={(event) => setReason(event.target.value)}
          />
          <div className="form-actions">
            <button type="submit" className="danger" disabled={retire.pending || !why}>
              Retire {policy.name}
            </button>
            <button type="button" className="secondary" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
          {retire.error ? <ErrorNotice error={retire.error} /> : null}
        </form>
      ) : (
        <button type="button" className="secondary" onClick={() => setConfirming(true)}>
          Retire this policy…
        </button>
      )}
    </section>
  );
}

/** A policy's versions, newest first: its history read in order, neither sorted nor paged. */
const VERSION_COLUMNS: readonly Column<PolicyVersion>[] = [
  { key: 'version', header: 'Version', cell: (entry) => entry.version, className: 'number' },
  { key: 'retention', header: 'Retention', cell: (entry) => <code>{entry.retention}</code> },
  { key: 'since', header: 'Counts from', cell: (entry) => agingInWords(entry.since) },
  { key: 'purpose', header: 'Purpose', cell: (entry) => entry.purpose },
  { key: 'basis', header: 'Legal basis', cell: (entry) => spaced(entry.legalBasis) },
  { key: 'status', header: 'Status', cell: (entry) => entry.status },
  { key: 'changed', header: 'Changed', cell: (entry) => dayOf(entry.changedAt) },
  { key: 'by', header: 'By', cell: (entry) => entry.changedBy },
  { key: 'reason', header: 'Reason', cell: (entry) => entry.reason ?? '', className: 'wrap' },
];

function Versions({ name }: { name: string }) {
  const versions = useApi<{ items: PolicyVersion[] }>(`/v1/policies/${encodeURIComponent(name)}/versions`);
  return (
    <>
      <h2>History</h2>
      <Show loaded={versions} what="the history">
        {({ items }) => (
          <DataTable
            label="Policy history table"
            columns={VERSION_COLUMNS}
            rows={[...items].reverse()}
            rowKey={(entry) => String(entry.version)}
            empty="No versions."
          />
        )}
      </Show>
    </>
  );
}
