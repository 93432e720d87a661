import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type Configuration } from 'oidc-provider';

/**
 * A real OpenID Provider (panva's `oidc-provider`, certified) on loopback, for the dashboard's
 * sign-in tests: discovery, JWKS, the authorization endpoint with PKCE required, its development
 * login and consent pages (any login name, any password), the token endpoint and RP-initiated
 * logout. Accounts are the login names below; their claims go into the ID token.
 */
export const ACCOUNTS: Record<string, Record<string, unknown>> = {
  // The DPO: mapped through the group map, limited to one category.
  dana: { groups: ['staff', 'privacy-office'], lethe_categories: ['user.contact'] },
  // An administrator.
  ada: { groups: ['privacy-admins'] },
  // A colleague whose groups map to no Lethe role.
  mallory: { groups: ['staff', 'marketing'] },
};

/** The role mapping the tests configure Lethe with. */
export const ROLE_SETTINGS = {
  roleClaim: 'groups',
  roleMap: { 'privacy-office': 'dpo', 'privacy-admins': 'admin' },
} as const;

export const DASHBOARD_CLIENT = { id: 'lethe-dashboard', secret: 'dashboard-client-secret' };
/** Another application registered at the same provider (a public client). */
export const OTHER_CLIENT = { id: 'other-app', redirectUri: 'http://127.0.0.1:9/callback' };

export interface TestProvider {
  readonly issuer: string;
  readonly provider: Provider;
  close(): Promise<void>;
}

/**
 * Starts the provider on a free loopback port with the dashboard registered as a confidential
 * client (`redirectUri`, logout back to `postLogoutRedirectUri`) and `OTHER_CLIENT`.
 */
export async function startTestProvider(options: {
  redirectUri: string;
  postLogoutRedirectUri: string;
}): Promise<TestProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const configuration: Configuration = {
    clients: [
      {
        client_id: DASHBOARD_CLIENT.id,
        client_secret: DASHBOARD_CLIENT.secret,
        redirect_uris: [options.redirectUri],
        post_logout_redirect_uris: [options.postLogoutRedirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
      {
        client_id: OTHER_CLIENT.id,
        token_endpoint_auth_method: 'none',
        redirect_uris: [OTHER_CLIENT.redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    async findAccount(_context, id) {
      const claims = ACCOUNTS[id];
      if (!claims) return undefined;
      return { accountId: id, claims: () => ({ sub: id, ...claims }) };
    },
    // The `lethe` scope releases the claims Lethe maps; IdPs such as Keycloak put them in the
    // ID token by a mapper, which is what `conformIdTokenClaims: false` does here.
    claims: { openid: ['sub'], lethe: ['groups', 'lethe_categories'] },
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    cookies: { keys: ['test-cookie-key'] },
    features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  };
  const provider = new Provider(issuer, configuration);
  // A failure inside the provider shows in the test's output, not only as a 500 to Lethe.
  provider.on('server_error', (_context, error) => console.error('oidc-provider:', error));
  const handle = provider.callback();
  server.on('request', (request, response) => void handle(request, response));
  return {
    issuer,
    provider,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * What a browser does between the authorization URL and the redirect URI, over plain HTTP with a
 * cookie jar: follows redirects, fills the login form with `login` and submits the consent form.
 * Returns the redirect URI's query (`code`, `state`, `iss`, or `error`).
 */
export async function authorizeAs(authorizationUrl: string, login: string, redirectUri: string) {
  const cookies = new Map<string, string>();
  const send = async (url: string, form?: URLSearchParams) => {
    const response = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; '),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { body: form.toString() } : {}),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';') as [string];
      const separator = pair.indexOf('=');
      cookies.set(pair.slice(0, separator), pair.slice(separator + 1));
    }
    return response;
  };
  let url = authorizationUrl;
  let form: URLSearchParams | undefined;
  for (let step = 0; step < 12; step += 1) {
    const response = await send(url, form);
    form = undefined;
    const location = response.headers.get('location');
    if (location) {
      const next = new URL(location, url);
      if (next.href.startsWith(redirectUri)) return next.searchParams;
      url = next.href;
      continue;
    }
    const page = await response.text();
    if (response.status !== 200)
      throw new Error(`the provider answered ${response.status}: ${page.slice(0, 300)}`);
    const action = /<form[^>]*action="([^"]+)"/.exec(page)?.[1];
    const prompt = /name="prompt" value="([a-z]+)"/.exec(page)?.[1];
    if (!action || !prompt) throw new Error(`no form on the provider's page: ${page.slice(0, 300)}`);
    url = new URL(action.replace(/&amp;/g, '&'), url).href;
    form = new URLSearchParams({ prompt, ...(prompt === 'login' ? { login, password: 'any' } : {}) });
  }
  throw new Error('the provider never redirected back');
}
