import type { RequestStatus, RequestTask, RightsRequest, TaskState } from '@lethe/api';
import { callApi } from '../api.js';
import { ReasonDialog } from '../components/reason-dialog.js';
import { ErrorNotice } from '../components/status.js';
import { OPEN_REQUEST_STATUSES } from '../options.js';
import { useCan } from '../permissions.js';
import { useSession } from '../session-context.js';
import { useAction } from '../use-action.js';

/** Task states a person may act on by hand: skip or mark done (`OVERRIDABLE_TASK_STATES` on the server), or retry a held one. */
const OVERRIDABLE: readonly TaskState[] = [
  'pending',
  'retrying',
  'waiting',
  'waiting_approval',
  'held',
  'failed',
];
/** Request statuses in which a stuck task may be steered. */
const TASKS_STEERABLE: readonly RequestStatus[] = ['in_progress', 'failed'];
/** How much longer each jurisdiction allows, for the extension dialog's wording. */
const EXTENSIONS: Record<string, string> = {
  gdpr: 'two further months (GDPR Art. 12(3))',
  ccpa: '45 further days',
  pipeda: '30 further days',
};

/** Cancel the request and extend its deadline, each with its reason; only for who may. */
export function RequestSteps({ request, onChanged }: { request: RightsRequest; onChanged: () => void }) {
  const { token } = useSession();
  const maySteer = useCan('requests:manage');
  if (!maySteer || !(OPEN_REQUEST_STATUSES as readonly RequestStatus[]).includes(request.status)) return null;
  const base = `/v1/requests/${encodeURIComponent(request.id)}`;
  const step = (path: string) => async (reason: string) => {
    await callApi(token, 'POST', `${base}/${path}`, { reason });
    onChanged();
  };
  const extension = EXTENSIONS[request.jurisdiction];
  return (
    <div className="form-actions" data-testid="request-steps">
      {extension && !request.extension ? (
        <ReasonDialog
          label="Extend the deadline"
          title="Extend the deadline"
          explanation={`The deadline moves by ${extension}, once. Give the legal reason the person is told (e.g. the request is complex or one of many).`}
          field="Legal reason"
          confirm="Extend"
          onSubmit={step('extend')}
        />
      ) : null}
      <ReasonDialog
        label="Cancel the request"
        title="Cancel the request"
        explanation="Its open tasks stop and its personal data is destroyed at once. The person may be filed again."
        confirm="Cancel the request"
        danger
        onSubmit={step('cancel')}
      />
    </div>
  );
}

/** Retry, skip with a reason, or mark done by hand: what a DPO does to a task that is stuck. */
export function TaskSteps({
  request,
  task,
  onChanged,
}: {
  request: RightsRequest;
  task: RequestTask;
  onChanged: () => void;
}) {
  const { token } = useSession();
  const maySteer = useCan('requests:manage');
  const retry = useAction();
  if (!maySteer || !TASKS_STEERABLE.includes(request.status) || !OVERRIDABLE.includes(task.state)) {
    return null;
  }
  const base = `/v1/requests/${encodeURIComponent(request.id)}/tasks/${task.task}`;
  const erases = request.type !== 'dsar';
  return (
    <div className="form-actions task-steps">
      {task.state === 'failed' || task.state === 'held' ? (
        <button
          type="button"
          disabled={retry.pending}
          onClick={() =>
            void retry.run(() => callApi(token, 'POST', `${base}/retry`, {})).then((ok) => ok && onChanged())
          }
        >
          Retry task {task.task}
        </button>
      ) : null}
      <ReasonDialog
        label={`Skip task ${task.task}`}
        title={`Skip ${task.target}`}
        explanation={
          erases
            ? `The erasure completes without ${task.target}: the person's data stays there. The reason is kept in the log and the request's report.`
            : `The person's package says ${task.target} was not searched, and why.`
        }
        confirm="Skip"
        danger={erases}
        onSubmit={async (reason) => {
          await callApi(token, 'POST', `${base}/skip`, { reason });
          onChanged();
        }}
      />
      {task.protocol !== 'ticket' ? (
        <ReasonDialog
          label={`Mark task ${task.task} done by hand`}
          title={`${task.target} was handled outside Lethe`}
          explanation="Say what the team did; it is kept with the task and in the log."
          field="Note"
          confirm="Mark done"
          onSubmit={async (note) => {
            await callApi(token, 'POST', `${base}/mark-done`, { note });
            onChanged();
          }}
        />
      ) : null}
      {retry.error ? <ErrorNotice error={retry.error} /> : null}
    </div>
  );
}
