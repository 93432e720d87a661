import { SignJWT } from 'jose';
import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import { DEFAULT_TOKEN_SETTINGS } from '../../src/auth/token-rules.js';
import { Tokens, type MintRequest } from '../../src/auth/tokens.js';

/**
 * Who the fuzzer calls as: every role, each with and without a category scope, an auditor with
 * and without the `subject-ids` grant, a service token for one system; and callers who must get
 * nowhere: no token, a malformed one, a forged signature, an expired token, a token signed by a
 * key the server never made, the wrong scheme.
 */
export interface Caller {
  readonly name: string;
  /** How its token is made; absent for the unauthenticated callers. */
  readonly mint?: Omit<MintRequest, 'ttlSeconds'>;
  /** For the unauthenticated callers: the Authorization header made from a valid admin token. */
  readonly forge?: (adminToken: string) => Promise<string | undefined>;
}

const contact = ['user.contact'];

export const CALLERS: readonly Caller[] = [
  { name: 'admin', mint: { subject: 'fz-admin', role: 'admin' } },
  { name: 'dpo', mint: { subject: 'fz-dpo', role: 'dpo' } },
  { name: 'auditor', mint: { subject: 'fz-auditor', role: 'auditor' } },
  { name: 'auditor+ids', mint: { subject: 'fz-auditor-ids', role: 'auditor', grants: ['subject-ids'] } },
  { name: 'service', mint: { subject: 'fz-service', role: 'service', system: 'accounts' } },
  { name: 'admin[user.contact]', mint: { subject: 'fz-admin-c', role: 'admin', categories: contact } },
  {
    name: 'dpo[user.contact.email]',
    mint: { subject: 'fz-dpo-e', role: 'dpo', categories: ['user.contact.email'] },
  },
  { name: 'auditor[user.contact]', mint: { subject: 'fz-auditor-c', role: 'auditor', categories: contact } },
  {
    name: 'auditor+ids[user.behavior]',
    mint: {
      subject: 'fz-auditor-b',
      role: 'auditor',
      grants: ['subject-ids'],
      categories: ['user.behavior'],
    },
  },
  {
    name: 'service[user.contact]',
    mint: { subject: 'fz-service-c', role: 'service', system: 'accounts', categories: contact },
  },
  { name: 'no token', forge: async () => undefined },
  { name: 'malformed', forge: async () => 'Bearer not.a.jwt' },
  { name: 'wrong scheme', forge: async (admin) => `Basic ${admin}` },
  { name: 'forged signature', forge: async (admin) => `Bearer ${flipSignature(admin)}` },
  { name: 'foreign key', forge: foreignKeyToken },
  { name: 'alg none', forge: async (admin) => `Bearer ${algNone(admin)}` },
];

/** The expired caller is minted by a clock two hours behind (past the allowed skew). */
export const EXPIRED = 'expired';

export interface CallerToken {
  readonly caller: Caller | { readonly name: typeof EXPIRED };
  /** The Authorization header, or none. */
  readonly authorization: string | undefined;
  readonly categories: readonly string[] | undefined;
  /** An auditor without the subject-ids grant: sees pseudonyms, never subject ids. */
  readonly grantless: boolean;
  readonly authenticated: boolean;
}

/** Tokens for every caller, minted now (again after a key rotation revokes the previous key). */
export async function mintCallers(tokens: Tokens): Promise<CallerToken[]> {
  const minted: CallerToken[] = [];
  let admin = '';
  for (const caller of CALLERS.filter((each) => each.mint)) {
    const { token } = await tokens.mint({ ...caller.mint!, ttlSeconds: 3_600 });
    if (caller.name === 'admin') admin = token;
    minted.push({
      caller,
      authorization: `Bearer ${token}`,
      categories: caller.mint!.categories,
      grantless: caller.mint!.role === 'auditor' && !caller.mint!.grants?.includes('subject-ids'),
      authenticated: true,
    });
  }
  for (const caller of CALLERS.filter((each) => each.forge)) {
    minted.push({
      caller,
      authorization: await caller.forge!(admin),
      categories: undefined,
      grantless: false,
      authenticated: false,
    });
  }
  const past = new Tokens(tokens.keys, DEFAULT_TOKEN_SETTINGS, { now: () => Date.now() - 7_200_000 });
  const expired = await past.mint({ subject: 'fz-expired', role: 'admin', ttlSeconds: 600 });
  minted.push({
    caller: { name: EXPIRED },
    authorization: `Bearer ${expired.token}`,
    categories: undefined,
    grantless: false,
    authenticated: false,
  });
  return minted;
}

function flipSignature(token: string): string {
  const last = token.at(-2) === 'A' ? 'B' : 'A';
  return `${token.slice(0, -2)}${last}${token.at(-1)}`;
}

function algNone(token: string): string {
  const [, payload] = token.split('.');
  const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
  return `${header}.${payload}.`;
}

/** An admin token with the server's issuer and key id, signed by a key pair it never made. */
async function foreignKeyToken(admin: string): Promise<string> {
  const header = JSON.parse(Buffer.from(admin.split('.')[0]!, 'base64url').toString()) as {
    alg: string;
    kid: string;
    typ: string;
  };
  const claims = JSON.parse(Buffer.from(admin.split('.')[1]!, 'base64url').toString()) as Record<
    string,
    unknown
  >;
  const { privateKey } = await promisify(generateKeyPair)('ed25519');
  const token = await new SignJWT(claims).setProtectedHeader(header).sign(privateKey);
  return `Bearer ${token}`;
}
