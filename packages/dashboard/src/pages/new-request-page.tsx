import type { RequestInput, RightsRequest } from '@lethe/api';
import { useState, type FormEvent } from 'react';
import { callApi } from '../api.js';
import { Page } from '../components/page.js';
import { ErrorNotice } from '../components/status.js';
import { JURISDICTIONS, REQUEST_STRATEGIES, REQUEST_TYPES, spaced } from '../options.js';
import { navigate } from '../router.js';
import { useSession } from '../session-context.js';
import { useAction } from '../use-action.js';

/** "+" is not allowed in request ids, so this address never shadows a request's own. */
export const NEW_REQUEST_PATH = '/requests/+new';

/** Files a rights request: what the person asks for, and how to find them. */
export function NewRequestPage() {
  const { token } = useSession();
  const [type, setType] = useState<RequestInput['type']>('dsar');
  const [strategy, setStrategy] = useState<NonNullable<RequestInput['strategy']>>('exact');
  const [jurisdiction, setJurisdiction] = useState<NonNullable<RequestInput['jurisdiction']>>('gdpr');
  const [subject, setSubject] = useState('');
  const [email, setEmail] = useState('');
  const [phone, setPhone] = useState('');
  const [customKey, setCustomKey] = useState('');
  const [missing, setMissing] = useState(false);
  const create = useAction();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const identifiers = Object.fromEntries(
      Object.entries({ subject, email, phone, customKey })
        .map(([key, value]) => [key, value.trim()])
        .filter(([, value]) => value !== ''),
    ) as RequestInput['identifiers'];
    setMissing(Object.keys(identifiers).length === 0);
    if (Object.keys(identifiers).length === 0) return;
    void create.run(async () => {
      const input: RequestInput = { type, strategy, jurisdiction, identifiers };
      const created = await callApi<RightsRequest>(token, 'POST', '/v1/requests', input);
      navigate(`/requests/${encodeURIComponent(created.id)}`);
    });
  };

  return (
    <Page title="New request">
      <form className="stacked-form" onSubmit={submit} aria-label="New request">
        <label htmlFor="request-type">The person asks for</label>
        <select
          id="request-type"
          value={type}
          onChange={(event) => setType(event.target.value as typeof type)}
        >
          {REQUEST_TYPES.map((value) => (
            <option key={value} value={value}>
              {value === 'dsar'
                ? 'a copy of their data (DSAR)'
                : value === 'delete'
                  ? 'deletion'
                  : 'deletion of personal fields'}
            </option>
          ))}
        </select>
        <label htmlFor="request-strategy">Find records</label>
        <select
          id="request-strategy"
          value={strategy}
          onChange={(event) => setStrategy(event.target.value as typeof strategy)}
        >
          {REQUEST_STRATEGIES.map((value) => (
            <option key={value} value={value}>
              {value === 'exact' ? 'matching an identifier (exact)' : 'and those linked to them (connected)'}
            </option>
          ))}
        </select>
        <label htmlFor="request-jurisdiction">Law (sets the deadline)</label>
        <select
          id="request-jurisdiction"
          value={jurisdiction}
          onChange={(event) => setJurisdiction(event.target.value as typeof jurisdiction)}
        >
          {JURISDICTIONS.map((value) => (
            <option key={value} value={value}>
              {value.toUpperCase()}
            </option>
          ))}
        </select>
        <fieldset aria-describedby="identifiers-help">
          <legend>How to find the person (at least one)</legend>
          <p id="identifiers-help" className="muted">
            Each identifier finds records on its own.
          </p>
          <label htmlFor="request-subject">Subject id (as in the telemetry)</label>
          <input id="request-subject" value={subject} onChange={(event) => setSubject(event.target.value)} />
          <label htmlFor="request-email">Email</label>
          <input
            id="request-email"
            type="email"
            value={email}
            onChange={(event) => setEmail(event.target.value)}
          />
          <label htmlFor="request-phone">Phone</label>
          <input
            id="request-phone"
            type="tel"
            value={phone}
            onChange={(event) => setPhone(event.target.value)}
          />
          <label htmlFor="request-custom-key">Customer key</label>
          <input
            id="request-custom-key"
            value={customKey}
            onChange={(event) => setCustomKey(event.target.value)}
          />
        </fieldset>
        {missing ? (
          <p className="notice notice-error" role="alert">
            Give at least one identifier: without one, nothing can be found.
          </p>
        ) : null}
        {create.error ? <ErrorNotice error={create.error} /> : null}
        <div className="form-actions">
          <button type="submit" disabled={create.pending}>
            {create.pending ? 'Filing…' : `File ${spaced(type)} request`}
          </button>
        </div>
      </form>
    </Page>
  );
}
