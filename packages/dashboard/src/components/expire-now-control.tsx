import type { ExpireNowInput, ExpireNowResult, SubjectRetention } from '@lethe/api';
import { useState, type FormEvent } from 'react';
import { callApi } from '../api.js';
import { dayOf } from '../format.js';
import { useCan } from '../permissions.js';
import { useSession } from '../session-context.js';
import { useAction } from '../use-action.js';
import { ErrorNotice } from './status.js';

/**
 * Expire now (docs/retention.md "Expire now"): a DPO's decision that some or all of the subject's
 * fields are due today, without a full rights request. Offered only to roles with
 * `subjects:expire`; a reason is required (it is kept on the fields and audited). No field ticked
 * means every field. The outcome (each field's new expiry) stays shown after the view reloads.
 */
export function ExpireNowControl(props: { retention: SubjectRetention; onExpired: () => void }) {
  const { retention } = props;
  const { token } = useSession();
  const mayExpire = useCan('subjects:expire');
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const [outcome, setOutcome] = useState<ExpireNowResult>();
  const expire = useAction();
  if (!mayExpire) return null;

  const toggle = (field: string, on: boolean) => {
    const next = new Set(chosen);
    if (on) next.add(field);
    else next.delete(field);
    setChosen(next);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const input: ExpireNowInput = {
      reason: reason.trim(),
      ...(chosen.size ? { fields: [...chosen] } : {}),
    };
    void expire
      .run(async () => {
        const path = `/v1/subjects/${encodeURIComponent(retention.subject)}/expire`;
        setOutcome(await callApi<ExpireNowResult>(token, 'POST', path, input));
      })
      .then((done) => {
        if (!done) return;
        setOpen(false);
        setReason('');
        setChosen(new Set());
        props.onExpired();
      });
  };
  return (
    <section aria-labelledby="expire-now-heading">
      <h2 id="expire-now-heading">Expire now</h2>
      {outcome ? (
        <div className="notice notice-ok" role="status" data-testid="expire-now-outcome">
          <p>
            <strong>Due today.</strong> Decided {dayOf(outcome.decidedAt)}; the subject now expires{' '}
            {dayOf(outcome.expiresAt)}.
          </p>
          <ul>
            {outcome.fields.map((field) => (
              <li key={field.field}>
                <code>{field.field}</code> due {dayOf(field.expiresAt)}
              </li>
            ))}
          </ul>
          <p className="muted">A legal hold over a field still wins: it shows as held, not due.</p>
        </div>
      ) : null}
      {open ? (
        <form onSubmit={submit} className="stacked-form notice" aria-label="Expire now">
          <label htmlFor="expire-reason">Reason</label>
          <input
            id="expire-reason"
            value={reason}
            onChange={(event) => setReason(event.target.value)}
            required
            maxLength={2000}
            placeholder="DPO decision: no longer needed"
          />
          <fieldset className="field-choices">
            <legend>Fields (none ticked: every field)</legend>
            {retention.fields.map((field) => (
              <label key={field.field}>
                <input
                  type="checkbox"
                  checked={chosen.has(field.field)}
                  onChange={(event) => toggle(field.field, event.target.checked)}
                />
                <code>{field.field}</code>
              </label>
            ))}
          </fieldset>
          <div className="form-actions">
            <button type="submit" className="danger" disabled={expire.pending}>
              Make due today
            </button>
            <button type="button" className="secondary" onClick={() => setOpen(false)}>
              Cancel
            </button>
          </div>
          {expire.error ? <ErrorNotice error={expire.error} /> : null}
        </form>
      ) : (
        <button type="button" className="secondary" onClick={() => setOpen(true)}>
          Expire fields now…
        </button>
      )}
    </section>
  );
}
