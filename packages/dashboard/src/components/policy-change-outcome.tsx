import type { Job, Policy, RetentionPreview } from '@lethe/api';
import { useEffect, useState } from 'react';
import { callApi } from '../api.js';
import { useSession } from '../session-context.js';
import { agingInWords } from './aging-field.js';
import { PreviewResult } from './retention-preview.js';

/** A saved change as the page remembers it: the policy before and after, why, and what was previewed. */
export interface PolicyChangeOutcome {
  readonly before: Policy;
  readonly after: Policy;
  readonly reason?: string;
  readonly preview?: RetentionPreview;
}

const OPEN_STATES: readonly Job['state'][] = ['queued', 'running'];

/**
 * What a save did, kept on the page until dismissed (a reload of the policy must not wipe it):
 * each changed setting, the previewed figures, and the recompute job followed until it ends.
 */
export function PolicyChangeOutcomePanel({
  outcome,
  onDismiss,
}: {
  outcome: PolicyChangeOutcome;
  onDismiss: () => void;
}) {
  const { before, after, reason, preview } = outcome;
  const changes = changedSettings(before, after);
  return (
    <section
      className="notice notice-ok"
      aria-labelledby="policy-outcome-heading"
      data-testid="policy-outcome"
    >
      <h2 id="policy-outcome-heading">
        Saved version {after.version}
        {changes.length === 0 ? ': nothing changed' : ''}
      </h2>
      {changes.length > 0 ? (
        <ul>
          {changes.map(([setting, from, to]) => (
            <li key={setting}>
              {setting}: <code>{from}</code> → <code>{to}</code>
            </li>
          ))}
        </ul>
      ) : null}
      {reason ? <p>Reason: {reason}</p> : null}
      {preview ? <PreviewResult preview={preview} /> : null}
      {after.recompute ? <RecomputeStatus job={after.recompute.job} /> : null}
      <button type="button" className="secondary" onClick={onDismiss}>
        Dismiss
      </button>
    </section>
  );
}

/** The recompute job of the change: its id and state, read again every second until it ends. */
function RecomputeStatus({ job }: { job: string }) {
  const { token } = useSession();
  const [status, setStatus] = useState<Job>();
  const open = status === undefined || OPEN_STATES.includes(status.state);
  useEffect(() => {
    if (!open) return;
    let current = true;
    const read = () =>
      void callApi<Job>(token, 'GET', `/v1/jobs/${job}`).then(
        (answer) => current && setStatus(answer),
        () => undefined,
      );
    read();
    const timer = setInterval(read, 1_000);
    return () => {
      current = false;
      clearInterval(timer);
    };
  }, [token, job, open]);
  const result = status?.result;
  return (
    <p data-testid="policy-outcome-job" aria-live="polite">
      Recompute job <code>{job}</code>: {status?.state ?? 'queued'}
      {result
        ? `, ${result.subjectFieldsChanged.toLocaleString()} of ${result.subjectFieldsUsingPolicy.toLocaleString()} subject fields moved`
        : ''}
      .
    </p>
  );
}

/** The settings that differ, in words: `[setting, before, after]`. */
function changedSettings(before: Policy, after: Policy): [string, string, string][] {
  const settings: [string, string, string][] = [
    ['Retention', before.retention, after.retention],
    ['Counts from', agingInWords(before.since), agingInWords(after.since)],
    ['Legal basis', before.legalBasis.replace(/_/g, ' '), after.legalBasis.replace(/_/g, ' ')],
    ['Purpose', before.purpose, after.purpose],
    ['Description', before.description ?? '(none)', after.description ?? '(none)'],
  ];
  return settings.filter(([, from, to]) => from !== to);
}
