import { useCallback, useState } from 'react';
import { ApiError } from './api.js';

/**
 * A change the user starts (save, retire, mark done): whether it is running, and the API's
 * refusal if it failed, shown beside the form that started it.
 */
export function useAction(): {
  pending: boolean;
  error: ApiError | undefined;
  run: (action: () => Promise<void>) => Promise<boolean>;
  clear: () => void;
} {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<ApiError>();
  const run = useCallback(async (action: () => Promise<void>) => {
    setPending(true);
    setError(undefined);
    try {
      await action();
      return true;
    } catch (failure) {
      setError(failure instanceof ApiError ? failure : new ApiError(0, 'UNEXPECTED', String(failure)));
      return false;
    } finally {
      setPending(false);
    }
  }, []);
  const clear = useCallback(() => setError(undefined), []);
  return { pending, error, run, clear };
}
