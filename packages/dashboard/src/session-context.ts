import type { SessionView } from '@lethe/api';
import { createContext, useContext } from 'react';
import type { Session } from './session.js';
import type { Loaded } from './use-api.js';

export const SessionContext = createContext<Session | undefined>(undefined);

/** The signed-in session; pages render only inside a signed-in layout. */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}

/**
 * What the server says about the token (`GET /v1/session`): read once per page load by the
 * layout, which needs it for the navigation, and shared with every page and panel that asks.
 */
export const SessionViewContext = createContext<Loaded<SessionView> | undefined>(undefined);

export function useSessionView(): Loaded<SessionView> {
  const view = useContext(SessionViewContext);
  if (!view) throw new Error('useSessionView outside a signed-in page');
  return view;
}
