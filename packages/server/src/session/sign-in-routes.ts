import { SignInExchange, SignInExchangeResult } from '@lethe/api';
import type { SignInExchange as Exchange } from './sign-in-codes.js';
import type { TypedApp } from '../http/typed-app.js';

/**
 * `POST /v1/session/exchange`, public (no token: the code is the credential): trades the code of a
 * one-time sign-in link for a token, once. Registered outside the authenticated `/v1` routes and
 * limited per client address (`rateLimitByAddress`).
 */
export function signInRoutes(app: TypedApp, exchange: Exchange) {
  app.post(
    '/v1/session/exchange',
    {
      schema: {
        operationId: 'exchangeSignInCode',
        summary: 'Trade a one-time sign-in code for a session token',
        tags: ['auth'],
        description:
          'Trades the code of a one-time sign-in link (`lethe token create --link`) for its token, once. ' +
          'An unknown, used or expired code is 401 SIGN_IN_CODE_INVALID, whichever it was.',
        security: [],
        body: SignInExchange,
        response: { 200: SignInExchangeResult },
      },
    },
    // The answer is a credential: like every `/v1` answer it is `Cache-Control: no-store`.
    async (request): Promise<SignInExchangeResult> => {
      const minted = await exchange.exchange(request.body.code, String(request.id));
      return { token: minted.token, expiresAt: minted.expiresAt.toISOString() };
    },
  );
}
