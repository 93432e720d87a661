import { useId, useRef, useState, type FormEvent } from 'react';
import { useAction } from '../use-action.js';
import { ErrorNotice } from './status.js';

/**
 * A button that asks for a reason before it acts (cancel a request, skip a task, extend a
 * deadline): a modal dialog with a required text, the server's refusal shown inside it, closed
 * once the action succeeded.
 */
export function ReasonDialog({
  label,
  title,
  explanation,
  field = 'Reason',
  confirm,
  danger = false,
  onSubmit,
}: {
  /** The button that opens the dialog. */
  label: string;
  title: string;
  explanation: string;
  /** The text field's label. */
  field?: string;
  /** The button that acts. */
  confirm: string;
  danger?: boolean;
  onSubmit: (reason: string) => Promise<void>;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const action = useAction();
  const id = useId();
  const close = () => {
    dialog.current?.close();
    action.clear();
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!reason.trim()) return;
    void action
      .run(() => onSubmit(reason.trim()))
      .then((ok) => {
        if (!ok) return;
        setReason('');
        dialog.current?.close();
      });
  };
  return (
    <>
      <button
        type="button"
        className={danger ? 'danger' : 'secondary'}
        onClick={() => dialog.current?.showModal()}
      >
        {label}
      </button>
      <dialog ref={dialog} aria-labelledby={`${id}-title`} className="reason-dialog">
        <form method="dialog" onSubmit={submit}>
          <h2 id={`${id}-title`}>{title}</h2>
          <p>{explanation}</p>
          <label htmlFor={`${id}-reason`}>{field}</label>
          <textarea
            id={`${id}-reason`}
            value={reason}
            onChange={(event) => setReason(event.target.value)}
            maxLength={2000}
            rows={3}
            required
          />
          {action.error ? <ErrorNotice error={action.error} /> : null}
          <div className="form-actions">
            <button type="submit" className={danger ? 'danger' : undefined} disabled={action.pending}>
              {confirm}
            </button>
            <button type="button" className="secondary" onClick={close}>
              Close
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}
