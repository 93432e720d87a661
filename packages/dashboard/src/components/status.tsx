import type { ReactNode } from 'react';
import type { ApiError } from '../api.js';
import type { Loaded } from '../use-api.js';

/** A polite live region: screen readers hear that something is loading without losing focus. */
export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

/** Why the answer is missing, in words a user can act on; never a blank page. */
export function ErrorNotice({ error, onRetry }: { error: ApiError; onRetry?: () => void }) {
  const title =
    error.status === 403
      ? 'You may not see this'
      : error.status === 404
        ? 'Not found'
        : error.status === 0
          ? 'The server cannot be reached'
          : 'Something went wrong';
  return (
    <div className="notice notice-error" role="alert">
      <p>
        <strong>{title}.</strong> {error.message}
      </p>
      {error.status === 403 ? (
        <p>Your token does not allow this page. Ask an administrator for a token with another role.</p>
      ) : null}
      <p className="muted">
        {error.code}
        {error.requestId ? ` · request ${error.requestId}` : ''}
      </p>
      {onRetry && error.status !== 403 && error.status !== 404 ? (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

/** Loading, error or the content of a `useApi` read. */
export function Show<T>(props: {
  loaded: Loaded<T> & { reload?: () => void };
  what: string;
  children: (data: T) => ReactNode;
}) {
  const { loaded } = props;
  if (loaded.state === 'loading') return <Loading what={props.what} />;
  if (loaded.state === 'failed') return <ErrorNotice error={loaded.error} onRetry={loaded.reload} />;
  return <>{props.children(loaded.data)}</>;
}
