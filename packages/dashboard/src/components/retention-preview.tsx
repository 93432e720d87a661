import type { RetentionPreview } from '@lethe/api';
import { useState } from 'react';
import { callApi } from '../api.js';
import { dayOf } from '../format.js';
import { useSession } from '../session-context.js';
import { useAction } from '../use-action.js';
import { DataTable, type Column } from './data-table.js';
import { ErrorNotice } from './status.js';

/** The preview of a retention change: asked for on demand, shown while the retention is the one previewed. */
export function useRetentionPreview(path: string, retention: string, since: string) {
  const { token } = useSession();
  const [preview, setPreview] = useState<RetentionPreview>();
  const previewing = useAction();
  const previewed =
    preview !== undefined && preview.retention === retention.trim() && preview.since === since;
  const run = () =>
    previewing.run(async () => {
      setPreview(
        await callApi<RetentionPreview>(token, 'POST', `${path}/preview`, {
          retention: retention.trim(),
          since,
        }),
      );
    });
  return { preview: previewed ? preview : undefined, previewing, run };
}

export function RetentionChange({
  from,
  to,
  retentionPreview,
}: {
  from: string;
  to: string;
  retentionPreview: ReturnType<typeof useRetentionPreview>;
}) {
  const { preview, previewing, run } = retentionPreview;
  return (
    <div className="notice" aria-live="polite">
      <p>
        Changing the retention from <code>{from}</code> to <code>{to}</code> moves expiries. Preview the
        change before saving.
      </p>
      <button type="button" className="secondary" onClick={() => void run()} disabled={previewing.pending}>
        {previewing.pending ? 'Previewing…' : 'Preview the change'}
      </button>
      {previewing.error ? <ErrorNotice error={previewing.error} /> : null}
      {preview ? <PreviewResult preview={preview} /> : null}
    </div>
  );
}

/** "N fields due at once", the headline of a change: what systems must delete as soon as it is saved. */
export function DueAtOnce({ preview }: { preview: RetentionPreview }) {
  const held =
    preview.heldAtOnce > 0 ? ` (${preview.heldAtOnce.toLocaleString()} more kept by a legal hold)` : '';
  return (
    <p className={preview.dueAtOnce > 0 ? 'due-at-once due-at-once-some' : 'due-at-once'}>
      <strong>{fieldCount(preview.dueAtOnce)} due at once</strong>
      {held}
    </p>
  );
}

const SHARE_COLUMNS: readonly Column<RetentionPreview['systems'][number]>[] = [
  { key: 'system', header: 'System', cell: (share) => share.system },
  { key: 'earlier', header: 'Earlier', cell: (share) => share.earlier.toLocaleString(), className: 'number' },
  { key: 'later', header: 'Later', cell: (share) => share.later.toLocaleString(), className: 'number' },
  {
    key: 'due',
    header: 'Due at once',
    cell: (share) => share.dueAtOnce.toLocaleString(),
    className: 'number',
  },
];

/** The previewed figures: due at once first, then the moves and where they land. */
export function PreviewResult({ preview }: { preview: RetentionPreview }) {
  return (
    <div data-testid="retention-preview">
      <DueAtOnce preview={preview} />
      <dl className="facts">
        <dt>Subject fields using this policy</dt>
        <dd>{preview.subjectFieldsUsingPolicy.toLocaleString()}</dd>
        <dt>Whose expiry moves</dt>
        <dd>{preview.subjectFieldsChanged.toLocaleString()}</dd>
        <dt>Earlier</dt>
        <dd>{preview.subjectFieldsEarlier.toLocaleString()}</dd>
        <dt>Later</dt>
        <dd>{preview.subjectFieldsLater.toLocaleString()}</dd>
        <dt>Unchanged</dt>
        <dd>{preview.subjectFieldsUnchanged.toLocaleString()}</dd>
        {preview.earliestNewExpiry ? (
          <>
            <dt>New expiries from</dt>
            <dd>
              {dayOf(preview.earliestNewExpiry)} to{' '}
              {dayOf(preview.latestNewExpiry ?? preview.earliestNewExpiry)}
            </dd>
          </>
        ) : null}
      </dl>
      {preview.systems.length > 0 ? (
        <DataTable
          label="Where the expiries move"
          caption="Where the expiries move"
          columns={SHARE_COLUMNS}
          rows={preview.systems}
          rowKey={(share) => share.system}
          empty="None."
        />
      ) : null}
    </div>
  );
}

export function fieldCount(count: number): string {
  return `${count.toLocaleString()} ${count === 1 ? 'field' : 'fields'}`;
}
