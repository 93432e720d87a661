import type { Command } from 'commander';
import { openKeyedStore } from '../auth/key-material.js';
import { GRANTS, isGrant, ROLES, type Grant, type Principal } from '../auth/principal.js';
import { createSignInCode, MAX_SIGN_IN_LINK_SECONDS } from './sign-in-codes.js';
import { SigningKeys } from '../auth/signing-keys.js';
import { CATEGORY_PATTERN, DEFAULT_TOKEN_SETTINGS, parseTtl } from '../auth/token-rules.js';
import { Tokens, type MintRequest } from '../auth/tokens.js';
import { audit } from '../audit/audit-trail.js';
import { userInfo } from 'node:os';
import { commandSettings } from '../config/process-environment.js';
import {
  choiceOption,
  collect,
  configFlag,
  dataDirFlag,
  existingStoreOption,
  storeFlags,
  UsageError,
} from '../cli/args.js';

interface CreateOptions {
  role: Principal['role'];
  system?: string;
  categories?: string;
  grant?: string[];
  ttl?: string;
  subject?: string;
  link?: boolean;
  url?: string;
  linkTtl?: string;
  dataDir?: string;
  config?: string;
}

export function registerToken(program: Command): void {
  program
    .command('token')
    .description('tokens for the API and the dashboard')
    .command('create')
    .description('mint a short-lived token (printed alone on stdout), or a one-time sign-in link')
    .addOption(choiceOption('--role <role>', 'the role of the token', ROLES).makeOptionMandatory())
    .option('--system <system>', 'the system a service token acts for (service tokens only)')
    .option('--categories <keys>', 'limit to these data categories, comma-separated (user.contact,…)')
    .option('--grant <grants>', `extra grants, comma-separated: ${GRANTS.join(', ')}; repeatable`, collect)
    .option('--ttl <duration>', 'lifetime, like 90s, 15m or 1h; at most 12h (default: 1h)')
    .option('--subject <name>', 'who the token names (default: cli:$USER)')
    .option('--link', "print the dashboard's one-time sign-in link instead of a token")
    .option('--url <url>', "the server's address in the link (default: LETHE_URL); with --link")
    .option('--link-ttl <duration>', 'how long the link can be used, 1s to 1h (default: 10m); with --link')
    .addOption(dataDirFlag())
    .addOption(configFlag())
    .action((options: CreateOptions) => tokenCreate(options));
}

/**
 * Mints a token with the signing keys in the data directory (or DATABASE_URL), unwrapped with the
 * master key found as `lethe serve` finds it: whoever holds both is already trusted, like Vault's
 * root-token generation. Prints only the token on stdout so it can be captured:
 * `export LETHE_TOKEN=$(lethe token create --role admin)`. With `--link` it mints nothing: it
 * stores a one-time sign-in code for such a token and prints the dashboard's sign-in link with the
 * code (see `signInLink`); the token is minted when the link is used.
 */
async function tokenCreate(options: CreateOptions): Promise<void> {
  if (options.role === 'service' && !options.system) throw new UsageError('a service token needs --system');
  if (options.role !== 'service' && options.system)
    throw new UsageError('--system is for service tokens only');
  const categories = options.categories === undefined ? undefined : splitList(options.categories);
  const badCategory = categories?.find((category) => !CATEGORY_PATTERN.test(category));
  if (badCategory !== undefined)
    throw new UsageError(`--categories takes category keys like user.contact (got "${badCategory}")`);
  const grants = options.grant?.flatMap(splitList);
  const badGrant = grants?.find((grant) => !isGrant(grant));
  if (badGrant !== undefined)
    throw new UsageError(`--grant must be one of ${GRANTS.join(', ')} (got "${badGrant}")`);
  if (options.url !== undefined && !options.link) throw new UsageError('--url is for --link only');
  if (options.linkTtl !== undefined && !options.link) throw new UsageError('--link-ttl is for --link only');
  const settings = commandSettings(storeFlags(options));
  const dashboardUrl = options.link
    ? dashboardBase(options.url ?? settings.get('LETHE_URL') ?? 'http://127.0.0.1:7420')
    : undefined;
  const ttlSeconds = parseTtl(options.ttl ?? '1h');
  if (ttlSeconds === undefined)
    throw new UsageError(`--ttl must look like 90s, 15m or 1h (got "${options.ttl}")`);
  if (ttlSeconds > 12 * 3600)
    throw new UsageError('--ttl may be at most 12h: Lethe issues short-lived tokens only');
  const linkSeconds = parseTtl(options.linkTtl ?? '10m');
  if (linkSeconds === undefined || linkSeconds === 0 || linkSeconds > MAX_SIGN_IN_LINK_SECONDS)
    throw new UsageError(`--link-ttl must lie between 1s and 1h, like 10m (got "${options.linkTtl}")`);

  const { store, masterKey } = await openKeyedStore(existingStoreOption(settings, { masterKey: true }), {
    env: settings.explicit,
  });
  try {
    // Whoever can read the store's keys is trusted like an admin (see the comment above).
    const operator: Principal = { id: `cli:${operatingSystemUser()}`, role: 'admin' };
    const subject = options.subject ?? operator.id;
    const request: MintRequest = {
      subject,
      role: options.role,
      ttlSeconds,
      ...(options.system ? { system: options.system } : {}),
      ...(categories ? { categories } : {}),
      ...(grants ? { grants: grants as Grant[] } : {}),
    };
    if (dashboardUrl) {
      // Audited as `sign-in.create` by the link's id; the code is printed once and kept nowhere.
      const link = await createSignInCode(store, operator, request, { lifetimeSeconds: linkSeconds });
      process.stdout.write(`${signInLink(dashboardUrl, link.code)}\n`);
      process.stderr.write(
        `${options.role} sign-in link, usable once until ${link.expiresAt.toISOString()}; ` +
          `the token it gives lives ${options.ttl ?? '1h'} from then\n`,
      );
      return;
    }
    const tokens = new Tokens(new SigningKeys(store, masterKey), DEFAULT_TOKEN_SETTINGS);
    const minted = await tokens.mint(request);
    // Minting is recorded before the token is shown: a token nobody can account for is never printed.
    await store.transaction((repository) =>
      audit(repository, operator, 'token.mint', `token:${minted.tokenId} ${options.role}:${subject}`),
    );
    process.stdout.write(`${minted.token}\n`);
    process.stderr.write(`${options.role} token, valid until ${minted.expiresAt.toISOString()}\n`);
  } finally {
    await store.close();
  }
}

/** The server's address as the base of a link: http(s) only, without a trailing slash. */
function dashboardBase(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--url must be the server's address, like http://127.0.0.1:7420 (got "${text}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`--url must be an http or https address (got "${text}")`);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/**
 * The dashboard's one-time sign-in link. The code rides in the fragment (`#code=…`), which browsers
 * never send: it stays out of the server's and any proxy's logs and `Referer` headers. The
 * dashboard takes it out of the address bar and the history entry as soon as it opens, and trades
 * it for the token once (`POST /v1/session/exchange`).
 */
export function signInLink(base: string, code: string): string {
  return `${base}/sign-in#code=${code}`;
}

/** `a,b, c` → ['a', 'b', 'c']; an empty item is kept so that it is refused, not ignored. */
function splitList(text: string): string[] {
  return text.split(',').map((item) => item.trim());
}

/** Who runs the command, as the operating system knows them (`cli:<user>` in the audit log). */
function operatingSystemUser(): string {
  try {
    return userInfo().username || 'local';
  } catch {
    // A uid without a passwd entry (a container's arbitrary uid) has no name.
    return 'local';
  }
}
