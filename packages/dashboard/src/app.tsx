import { useEffect, useState } from 'react';
import { ApiError, whenUnauthorized } from './api.js';
import { Layout } from './layout.js';
import { SignInPage } from './pages/sign-in-page.js';
import { navigate } from './router.js';
import { finishOidcSignIn, takeEndSessionUrl, takeOidcCallback } from './oidc-sign-in.js';
import {
  exchangeSignInCode,
  forgetSession,
  isSession,
  storedSession,
  storeSession,
  takeSignInLink,
  type Session,
} from './session.js';
import { SessionContext } from './session-context.js';

interface SignInState {
  readonly session?: Session;
  readonly problem?: string;
  /** A sign-in link's code, or the identity provider's answer, is being traded for a token. */
  readonly exchanging?: boolean;
  /** After signing out of a session that came from the identity provider: its own sign-out. */
  readonly endSessionUrl?: string;
}

/** The outcome of the sign-in link, or of the identity provider's answer, the app was opened with. */
export type LinkSignIn = Promise<SignInState>;

/**
 * Reads the sign-in link, or the identity provider's answer at `/sign-in/callback`, in the address
 * bar (taking it out at once) and starts trading its code for a token. Called once, by `main.tsx`,
 * before React renders: a code works once, and React's StrictMode runs effects twice.
 */
export function signInWithLink(): LinkSignIn | undefined {
  const callback = takeOidcCallback();
  if (callback) return signInWithProvider(callback);
  const link = takeSignInLink();
  if (!link) return undefined;
  if ('token' in link) {
    return Promise.resolve({
      problem:
        'Sign-in links that carry a token are no longer accepted. Ask for a one-time link ' +
        '(lethe token create --link), or paste a token below.',
    });
  }
  return exchangeSignInCode(link.code).then(
    (session): SignInState => {
      if (!isSession(session)) return { problem: `The sign-in link did not work: ${session.problem}` };
      storeSession(session);
      return { session };
    },
    (error: unknown): SignInState => ({ problem: linkProblem(error) }),
  );
}

function signInWithProvider(callback: NonNullable<ReturnType<typeof takeOidcCallback>>): LinkSignIn {
  if ('error' in callback) {
    // The provider's own refusal (the user cancelled, or the provider refused the client).
    return Promise.resolve({
      problem: `The identity provider did not sign you in: ${callback.description ?? callback.error}.`,
    });
  }
  return finishOidcSignIn(callback).then(
    (session): SignInState => {
      if (!isSession(session)) return { problem: session.problem };
      storeSession(session);
      return { session };
    },
    (error: unknown): SignInState => ({ problem: providerProblem(error) }),
  );
}

function providerProblem(error: unknown): string {
  if (error instanceof ApiError && error.code === 'OIDC_NO_ROLE') {
    return `${error.message} Ask your administrator for access to Lethe.`;
  }
  if (
    error instanceof ApiError &&
    (error.code === 'OIDC_STATE_INVALID' || error.code === 'OIDC_CODE_INVALID')
  ) {
    return `${error.message} Start again with the button below.`;
  }
  return `Signing in with the identity provider did not work: ${error instanceof Error ? error.message : String(error)}`;
}

function linkProblem(error: unknown): string {
  if (error instanceof ApiError && error.code === 'SIGN_IN_CODE_INVALID') {
    return (
      'This sign-in link was used already or has expired: a link signs in once, within minutes of ' +
      'being made. Ask for a new one (lethe token create --link), or paste a token below.'
    );
  }
  return `The sign-in link did not work: ${error instanceof Error ? error.message : String(error)}`;
}

/** The tab's stored session, or the sign-in page (waiting for the link's exchange, if any). */
export function App({ linkSignIn }: { linkSignIn?: LinkSignIn | undefined }) {
  const [state, setState] = useState<SignInState>(() => {
    if (linkSignIn) return { exchanging: true };
    const stored = storedSession();
    return stored ? { session: stored } : {};
  });

  useEffect(() => {
    let current = true;
    void linkSignIn?.then((outcome) => {
      if (current) setState(outcome);
    });
    return () => {
      current = false;
    };
  }, [linkSignIn]);

  // A 401 anywhere (expired, revoked, signed by a retired key) ends the session with the reason.
  useEffect(
    () =>
      whenUnauthorized((error) => {
        forgetSession();
        setState({ problem: `${error.message} Please sign in again.` });
      }),
    [],
  );

  const signIn = (session: Session) => {
    storeSession(session);
    setState({ session });
  };
  const signOut = () => {
    const endSessionUrl = takeEndSessionUrl();
    forgetSession();
    setState({ problem: 'You signed out.', ...(endSessionUrl ? { endSessionUrl } : {}) });
    navigate('/');
  };

  if (!state.session) {
    // Keyed by the problem: the page starts afresh (showing it) when a link's exchange ends.
    return (
      <SignInPage
        key={state.exchanging ? 'exchanging' : (state.problem ?? '')}
        onSignIn={signIn}
        problem={state.problem}
        exchanging={state.exchanging ?? false}
        endSessionUrl={state.endSessionUrl}
      />
    );
  }
  return (
    <SessionContext.Provider value={state.session}>
      <Layout onSignOut={signOut} />
    </SessionContext.Provider>
  );
}
