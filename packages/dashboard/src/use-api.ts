import { useCallback, useEffect, useRef, useState } from 'react';
import { callApi, type ApiError } from './api.js';
import { useSession } from './session-context.js';

export type Loaded<T> =
  | { readonly state: 'loading' }
  | { readonly state: 'failed'; readonly error: ApiError }
  | { readonly state: 'ready'; readonly data: T };

/**
 * Reads `path` (`undefined`: nothing to read yet) with the session's token. `reload()` reads again,
 * e.g. after a change. An answer for a path that is no longer asked for is dropped.
 */
export function useApi<T>(path: string | undefined): Loaded<T> & { reload: () => void } {
  const { token } = useSession();
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading' });
  const [generation, setGeneration] = useState(0);
  const shownPath = useRef(path);
  useEffect(() => {
    if (path === undefined) return;
    let current = true;
    // A reload of the same address keeps showing what is there until the new answer arrives.
    if (path !== shownPath.current) setLoaded({ state: 'loading' });
    shownPath.current = path;
    callApi<T>(token, 'GET', path).then(
      (data) => current && setLoaded({ state: 'ready', data }),
      (error: ApiError) => current && setLoaded({ state: 'failed', error }),
    );
    return () => {
      current = false;
    };
  }, [token, path, generation]);
  const reload = useCallback(() => setGeneration((value) => value + 1), []);
  return { ...loaded, reload };
}
