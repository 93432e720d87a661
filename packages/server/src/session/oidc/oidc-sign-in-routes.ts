import { OidcSignInFinish, OidcSignInInfo, OidcSignInResult, OidcSignInStart } from '@lethe/api';
import type { TypedApp } from '../../http/typed-app.js';
import type { OidcSignIn } from './oidc-sign-in.js';

/**
 * The dashboard's sign-in through the OIDC provider, public (there is no token yet) and limited
 * per client address like the sign-in link's exchange. Registered only when it is configured.
 */
export function oidcSignInRoutes(app: TypedApp, signIn: OidcSignIn) {
  app.get(
    '/v1/session/oidc',
    {
      schema: {
        operationId: 'getOidcSignIn',
        summary: 'The identity provider to sign in with',
        tags: ['auth'],
        description: 'The identity provider the dashboard offers to sign in with.',
        security: [],
        response: { 200: OidcSignInInfo },
      },
    },
    async (): Promise<OidcSignInInfo> => ({ providerName: signIn.providerName }),
  );

  app.post(
    '/v1/session/oidc/start',
    {
      schema: {
        operationId: 'startOidcSignIn',
        summary: 'Start a sign-in at the identity provider',
        tags: ['auth'],
        description:
          "Starts a sign-in (authorization code + PKCE): the provider's authorization URL and the attempt " +
          'the browser keeps until the provider sends it back to the redirect URI.',
        security: [],
        response: { 200: OidcSignInStart },
      },
    },
    async (): Promise<OidcSignInStart> => signIn.start(),
  );

  app.post(
    '/v1/session/oidc/finish',
    {
      schema: {
        operationId: 'finishOidcSignIn',
        summary: "Finish a sign-in: trade the provider's code for a session token",
        tags: ['auth'],
        description:
          'Finishes a sign-in: checks the attempt and the state, exchanges the code, verifies the ID token and maps its claims to a role; answers a Lethe token. ' +
          'Refusals: OIDC_STATE_INVALID, OIDC_CODE_INVALID, OIDC_ID_TOKEN_INVALID, OIDC_NO_ROLE, OIDC_PROVIDER_ERROR.',
        security: [],
        body: OidcSignInFinish,
        response: { 200: OidcSignInResult },
      },
    },
    async (request): Promise<OidcSignInResult> => {
      const finished = await signIn.finish(request.body, String(request.id));
      return {
        token: finished.token,
        expiresAt: finished.expiresAt.toISOString(),
        ...(finished.endSessionUrl ? { endSessionUrl: finished.endSessionUrl } : {}),
      };
    },
  );
}
