import { useEffect, useState } from 'react';
import { whenUnauthorized } from './api.js';
import { Layout } from './layout.js';
import { SignInPage } from './pages/sign-in-page.js';
import { navigate } from './router.js';
import {
  forgetSession,
  isSession,
  sessionFromToken,
  storedSession,
  storeSession,
  takeTokenFromLink,
  type Session,
} from './session.js';
import { SessionContext } from './session-context.js';

/** A sign-in link's token, else the tab's stored session; a link that cannot sign in says why. */
function initialState(): { session?: Session; problem?: string } {
  const linked = takeTokenFromLink();
  if (linked !== undefined) {
    const session = sessionFromToken(linked);
    if (!isSession(session)) return { problem: `The sign-in link did not work: ${session.problem}` };
    storeSession(session);
    return { session };
  }
  const stored = storedSession();
  return stored ? { session: stored } : {};
}

export function App() {
  const [state, setState] = useState(initialState);

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
    forgetSession();
    setState({ problem: 'You signed out.' });
    navigate('/');
  };

  if (!state.session) return <SignInPage onSignIn={signIn} problem={state.problem} />;
  return (
    <SessionContext.Provider value={state.session}>
      <Layout onSignOut={signOut} />
    </SessionContext.Provider>
  );
}
