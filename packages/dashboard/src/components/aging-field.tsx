import { useState } from 'react';

/** The kinds of `since` (docs/retention.md "Aging"); event and until carry a value. */
type AgingKind = 'last-use' | 'first-use' | 'event' | 'until';

const LABELS: Record<AgingKind, string> = {
  'last-use': 'the last use',
  'first-use': 'the first use',
  event: "the subject's event…",
  until: 'a fixed day (kept until then)…',
};

/** A `since` in words: "the last use", "the event account-closed", "until 2027-03-01". */
export function agingInWords(since: string): string {
  if (since.startsWith('event:')) return `the event ${since.slice('event:'.length)}`;
  if (since.startsWith('until:')) return `until ${since.slice('until:'.length)}`;
  return LABELS[since as AgingKind] ?? since;
}

function kindOf(since: string): AgingKind {
  if (since.startsWith('event:')) return 'event';
  if (since.startsWith('until:')) return 'until';
  return since === 'first-use' ? 'first-use' : 'last-use';
}

/**
 * The policy form's "Counts from" control: a select of the strategy and, for an event or a fixed
 * day, its name or date. `onChange` gets the `since` as the API takes it.
 */
export function AgingField({ since, onChange }: { since: string; onChange: (since: string) => void }) {
  const [kind, setKind] = useState<AgingKind>(kindOf(since));
  const [value, setValue] = useState(since.includes(':') ? since.slice(since.indexOf(':') + 1) : '');
  const emit = (nextKind: AgingKind, nextValue: string) =>
    onChange(nextKind === 'event' || nextKind === 'until' ? `${nextKind}:${nextValue.trim()}` : nextKind);
  return (
    <>
      <label htmlFor="policy-since">Counts from</label>
      <select
        id="policy-since"
        value={kind}
        onChange={(event) => {
          const next = event.target.value as AgingKind;
          setKind(next);
          emit(next, value);
        }}
        aria-describedby="policy-since-help"
      >
        {(Object.keys(LABELS) as AgingKind[]).map((option) => (
          <option key={option} value={option}>
            {LABELS[option]}
          </option>
        ))}
      </select>
      {kind === 'event' ? (
        <>
          <label htmlFor="policy-since-event">Event name</label>
          <input
            id="policy-since-event"
            value={value}
            required
            pattern="[a-z0-9][a-z0-9._\-]{0,63}"
            placeholder="account-closed"
            onChange={(event) => {
              setValue(event.target.value);
              emit(kind, event.target.value);
            }}
          />
        </>
      ) : null}
      {kind === 'until' ? (
        <>
          <label htmlFor="policy-since-until">Kept until</label>
          <input
            id="policy-since-until"
            type="date"
            value={value}
            required
            onChange={(event) => {
              setValue(event.target.value);
              emit(kind, event.target.value);
            }}
          />
        </>
      ) : null}
      <p id="policy-since-help" className="muted">
        What the retention counts from. An event-anchored policy keeps a field until the subject's event (sent
        to <code>POST /v1/subjects/{'{id}'}/events</code>) arrives; a fixed day ignores the retention.
      </p>
    </>
  );
}
