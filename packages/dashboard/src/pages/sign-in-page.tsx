import { useEffect, useState, type FormEvent } from 'react';
import { ApiError, callApi } from '../api.js';
import { oidcProvider, startOidcSignIn } from '../oidc-sign-in.js';
import { isSession, sessionFromToken, type Session } from '../session.js';

/**
 * Sign in through the company's identity provider (when the server offers it), by pasting a token
 * from `lethe token create`, or by opening the one-time link that `lethe token create --link`
 * prints (its code is traded for a token before this page shows, or while it says so). A pasted
 * token is checked with the server before the dashboard opens.
 */
export function SignInPage({
  onSignIn,
  problem,
  exchanging = false,
  endSessionUrl,
}: {
  onSignIn: (session: Session) => void;
  problem?: string | undefined;
  /** A sign-in link's code, or the identity provider's answer, is being traded for a token. */
  exchanging?: boolean;
  /** After signing out of a session from the identity provider: the provider's own sign-out. */
  endSessionUrl?: string | undefined;
}) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>(problem);
  const [checking, setChecking] = useState(false);
  const [provider, setProvider] = useState<string | undefined>();
  const [redirecting, setRedirecting] = useState(false);

  useEffect(() => {
    let current = true;
    void oidcProvider().then((name) => {
      if (current) setProvider(name);
    });
    return () => {
      current = false;
    };
  }, []);

  const signInWithProvider = async () => {
    setRedirecting(true);
    try {
      await startOidcSignIn();
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.message : String(failure));
      setRedirecting(false);
    }
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const session = sessionFromToken(token);
    if (!isSession(session)) return setError(session.problem);
    setChecking(true);
    try {
      // Proves the server accepts the token before the dashboard opens.
      await callApi(session.token, 'GET', '/v1/session');
      onSignIn(session);
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.message : String(failure));
    } finally {
      setChecking(false);
    }
  };

  if (exchanging) {
    return (
      <main className="sign-in" id="main">
        <h1>Sign in to Lethe</h1>
        <p role="status">Signing in…</p>
      </main>
    );
  }

  return (
    <main className="sign-in" id="main">
      <h1>Sign in to Lethe</h1>
      {error ? (
        <div className="notice notice-error" role="alert">
          <p>{error}</p>
        </div>
      ) : null}
      {endSessionUrl ? (
        <p>
          You are still signed in at {provider ?? 'your identity provider'}:{' '}
          <a href={endSessionUrl}>sign out of {provider ?? 'the identity provider'} too</a>.
        </p>
      ) : null}
      {provider ? (
        <div className="sign-in-provider">
          <button type="button" onClick={() => void signInWithProvider()} disabled={redirecting}>
            {redirecting ? `Going to ${provider}…` : `Sign in with ${provider}`}
          </button>
          <p className="muted">or with a token:</p>
        </div>
      ) : null}
      <form onSubmit={(event) => void submit(event)}>
        <label htmlFor="token">Token</label>
        <textarea
          id="token"
          name="token"
          rows={5}
          value={token}
          onChange={(event) => setToken(event.target.value)}
          required
          spellCheck={false}
          autoComplete="off"
          aria-describedby="token-help"
        />
        <p id="token-help" className="muted">
          Paste a token from <code>lethe token create --role dpo</code>, or open the one-time link that{' '}
          <code>lethe token create --role dpo --link</code> prints.
        </p>
        <button type="submit" disabled={checking}>
          {checking ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
