import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Server,
  ServerCredentials,
  status,
  type Metadata,
  type sendUnaryData,
  type ServerUnaryCall,
} from '@grpc/grpc-js';
import type { Identifiers } from '@lethe/api';
import {
  createCallVerifier,
  LetheCallError,
  type CallActor,
  type CallVerifier,
  type VerifiedCall,
} from '@lethe/client';
import {
  pdClientService,
  type PdDeleteRequest,
  type PdDeleteResponse,
  type PdGetRequest,
  type PdGetResponse,
  type PdIdentifiers,
  type PdRecord,
} from '../../src/requests/rights-clients/grpc-rights-client.js';
import type { ClientRecord } from '../../src/requests/rights-clients/rights-client.js';

/**
 * Fake-but-real rights clients for end-to-end tests: an HTTP server and a gRPC server on
 * 127.0.0.1 (a free port) that follow the rights-client contract over a small in-memory store,
 * verify Lethe's call tokens with the SDK, and record every call they receive.
 */

export interface RightsClientFixtureOptions {
  /** Lethe's JWKS; when given, every call is verified with the SDK and refused (401) when it fails. */
  readonly jwksUrl?: string;
  /** Lethe's issuer; default `lethe`. */
  readonly issuer?: string;
  /** The audience the client expects, e.g. `rights-client:crm`. */
  readonly audience: string;
  /** Waits this long before answering each call. */
  readonly latencyMs?: number;
  /** Answers the first N calls with 503 (gRPC: UNAVAILABLE). */
  readonly failFirst?: number;
  /** Records by identifier value (an email, a subject id, a phone or a custom key). Copied. */
  readonly records: ReadonlyMap<string, readonly ClientRecord[]>;
}

export interface HttpRightsClientFixtureOptions extends RightsClientFixtureOptions {
  /** Answers a call its own way (a refusal, a malformed body) instead of by the contract. */
  readonly respond?: (call: RecordedCall) => HttpAnswer | undefined;
}

export interface GrpcRightsClientFixtureOptions extends RightsClientFixtureOptions {
  /** Fails a call with this status instead of answering it by the contract. */
  readonly respond?: (call: RecordedCall) => GrpcRefusal | undefined;
}

export interface HttpAnswer {
  readonly status: number;
  readonly body?: unknown;
}

export interface GrpcRefusal {
  readonly code: status;
  readonly details?: string;
}

/** One call the fixture received, whatever it answered. */
export interface RecordedCall {
  readonly operation: 'get' | 'delete' | 'unknown';
  /** The HTTP path (`/privacy/get`) or the gRPC method path (`/lethe.rights.v1.PDClient/Get`). */
  readonly path: string;
  /** The JSON body, or the gRPC request as decoded (proto field names). */
  readonly body: unknown;
  /** Who the call was made for, from the verified token; undefined without `jwksUrl` or when refused. */
  readonly actor: CallActor | undefined;
  readonly verified: VerifiedCall | undefined;
  /** The `x-request-id` header or metadata. */
  readonly requestIdHeader: string | undefined;
  /** The HTTP status or gRPC status name answered; undefined while the call is pending. */
  answered: number | string | undefined;
}

export interface RightsClientFixture {
  readonly calls: RecordedCall[];
  /** The identifier values whose records were deleted (rows) or cleared (pii). */
  readonly deleted: Set<string>;
  /** The fixture's store as it is now. */
  readonly records: Map<string, ClientRecord[]>;
  close(): Promise<void>;
}

export interface HttpRightsClientFixture extends RightsClientFixture {
  /** `http://127.0.0.1:<port>`; any path ending in `/get` or `/delete` is served. */
  readonly url: string;
}

export interface GrpcRightsClientFixture extends RightsClientFixture {
  /** `127.0.0.1:<port>`, plaintext. */
  readonly address: string;
}

export async function startHttpRightsClient(
  options: HttpRightsClientFixtureOptions,
): Promise<HttpRightsClientFixture> {
  const fixture = new FakeRightsClient(options);
  const server = createServer((request, response) => {
    void (async () => {
      let text = '';
      for await (const chunk of request) text += String(chunk);
      const path = new URL(request.url ?? '/', 'http://fixture').pathname;
      const requestIdHeader = request.headers['x-request-id'];
      const outcome = await fixture.handle(options.respond, {
        operation: path.endsWith('/get') ? 'get' : path.endsWith('/delete') ? 'delete' : 'unknown',
        path,
        body: parseJson(text),
        authorization: request.headers.authorization,
        requestIdHeader: typeof requestIdHeader === 'string' ? requestIdHeader : undefined,
      });
      const answer = httpAnswer(outcome);
      outcome.call.answered = answer.status;
      response.writeHead(answer.status, { 'content-type': 'application/json' });
      response.end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
    })().catch((error: unknown) => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { message: String(error) } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    ...fixture.view(),
    async close() {
      fixture.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function startGrpcRightsClient(
  options: GrpcRightsClientFixtureOptions,
): Promise<GrpcRightsClientFixture> {
  const fixture = new FakeRightsClient(options);
  const service = pdClientService();

  function serve<Request extends PdGetRequest | PdDeleteRequest, Response>(
    operation: 'get' | 'delete',
    path: string,
    toResponse: (outcome: Answered) => Response,
  ) {
    return (call: ServerUnaryCall<Request, Response>, callback: sendUnaryData<Response>) => {
      void (async () => {
        const request = call.request;
        const outcome = await fixture.handle(options.respond, {
          operation,
          path,
          body: request,
          authorization: metadataText(call.metadata, 'authorization'),
          requestIdHeader: metadataText(call.metadata, 'x-request-id'),
          identifiers: identifiersFromWire(request.identifiers),
          ...('mode' in request ? { mode: modeFromWire(request.mode) } : {}),
        });
        if (outcome.kind === 'answer') {
          outcome.call.answered = status[status.OK];
          callback(null, toResponse(outcome));
          return;
        }
        const refusal = grpcRefusal(outcome);
        outcome.call.answered = status[refusal.code];
        callback({ code: refusal.code, details: refusal.details ?? '' });
      })().catch((error: unknown) => callback({ code: status.INTERNAL, details: String(error) }));
    };
  }

  const server = new Server();
  server.addService(service, {
    Get: serve<PdGetRequest, PdGetResponse>('get', service.Get.path, (outcome) => ({
      records: outcome.records.map(recordToWire),
    })),
    Delete: serve<PdDeleteRequest, PdDeleteResponse>('delete', service.Delete.path, (outcome) => ({
      deleted: outcome.deleted,
    })),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    address: `127.0.0.1:${port}`,
    ...fixture.view(),
    async close() {
      fixture.stop();
      server.forceShutdown();
    },
  };
}

// The contract, shared by both protocols -----------------------------------------------------

interface IncomingCall {
  readonly operation: RecordedCall['operation'];
  readonly path: string;
  readonly body: unknown;
  readonly authorization: string | undefined;
  readonly requestIdHeader: string | undefined;
  /** Given by the gRPC side (decoded from the proto); read from the body for HTTP. */
  readonly identifiers?: Identifiers;
  readonly mode?: string;
}

type Outcome<Own> =
  | { readonly kind: 'own'; readonly call: RecordedCall; readonly own: Own }
  | { readonly kind: 'unavailable' | 'no-route' | 'not-found' | 'bad-request'; readonly call: RecordedCall }
  | { readonly kind: 'unauthenticated'; readonly call: RecordedCall; readonly error: LetheCallError }
  | Answered;

interface Answered {
  readonly kind: 'answer';
  readonly call: RecordedCall;
  readonly records: readonly ClientRecord[];
  readonly deleted: number;
}

class FakeRightsClient {
  readonly calls: RecordedCall[] = [];
  readonly deleted = new Set<string>();
  readonly records: Map<string, ClientRecord[]>;
  private readonly verifier: CallVerifier | undefined;
  /** Deletions already done, by request and task id: a retry answers the same count. */
  private readonly done = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private failuresLeft: number;

  constructor(private readonly options: RightsClientFixtureOptions) {
    this.records = new Map([...options.records].map(([key, records]) => [key, [...records]]));
    this.failuresLeft = options.failFirst ?? 0;
    this.verifier =
      options.jwksUrl === undefined
        ? undefined
        : createCallVerifier({
            jwksUrl: options.jwksUrl,
            audience: options.audience,
            ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
          });
  }

  view(): Omit<RightsClientFixture, 'close'> {
    return { calls: this.calls, deleted: this.deleted, records: this.records };
  }

  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /** Answers by the contract, unless `respond` answers the call its own way first. */
  async handle<Own>(
    respond: ((call: RecordedCall) => Own | undefined) | undefined,
    incoming: IncomingCall,
  ): Promise<Outcome<Own>> {
    let verified: VerifiedCall | undefined;
    let refusal: LetheCallError | undefined;
    if (this.verifier) {
      try {
        verified = await this.verifier.verify(incoming.authorization);
      } catch (error) {
        if (!(error instanceof LetheCallError)) throw error;
        refusal = error;
      }
    }
    const call: RecordedCall = {
      operation: incoming.operation,
      path: incoming.path,
      body: incoming.body,
      actor: verified?.actor,
      verified,
      requestIdHeader: incoming.requestIdHeader,
      answered: undefined,
    };
    this.calls.push(call);
    if (this.options.latencyMs) await this.sleep(this.options.latencyMs);
    if (this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      return { kind: 'unavailable', call };
    }
    if (refusal) return { kind: 'unauthenticated', call, error: refusal };
    const own = respond?.(call);
    if (own !== undefined) return { kind: 'own', call, own };
    if (incoming.operation === 'unknown') return { kind: 'no-route', call };

    const body = isObject(incoming.body) ? incoming.body : {};
    const identifiers = incoming.identifiers ?? (isObject(body['identifiers']) ? body['identifiers'] : {});
    const keys = identifierValues(identifiers).filter((value) => this.records.has(value));
    if (incoming.operation === 'get') {
      if (keys.length === 0) return { kind: 'not-found', call };
      return {
        kind: 'answer',
        call,
        records: keys.flatMap((key) => this.records.get(key) ?? []),
        deleted: 0,
      };
    }

    const mode = incoming.mode ?? body['mode'];
    if (mode !== 'rows' && mode !== 'pii') return { kind: 'bad-request', call };
    const retryOf = `${String(body['requestId'] ?? body['request_id'])}/${String(body['taskId'] ?? body['task_id'])}`;
    const earlier = this.done.get(retryOf);
    if (earlier !== undefined) return { kind: 'answer', call, records: [], deleted: earlier };
    if (keys.length === 0) return { kind: 'not-found', call };
    let deleted = 0;
    for (const key of keys) {
      const records = this.records.get(key) ?? [];
      deleted += records.length;
      this.deleted.add(key);
      if (mode === 'rows') this.records.delete(key);
      else this.records.set(key, records.map(clearFields));
    }
    this.done.set(retryOf, deleted);
    return { kind: 'answer', call, records: [], deleted };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }
}

function httpAnswer(outcome: Outcome<HttpAnswer>): HttpAnswer {
  if (outcome.kind === 'unavailable') {
    return { status: 503, body: { error: { code: 'UNAVAILABLE', message: 'Try again later.' } } };
  }
  if (outcome.kind === 'unauthenticated') {
    return { status: 401, body: { error: { code: outcome.error.code, message: outcome.error.message } } };
  }
  switch (outcome.kind) {
    case 'own':
      return outcome.own;
    case 'no-route':
      return {
        status: 404,
        body: { error: { code: 'NO_ROUTE', message: `No route ${outcome.call.path}.` } },
      };
    case 'not-found':
      return { status: 404, body: { error: { code: 'NOT_FOUND', message: 'Nothing about this person.' } } };
    case 'bad-request':
      return { status: 400, body: { error: { code: 'BAD_REQUEST', message: 'mode must be rows or pii' } } };
    case 'answer':
      return outcome.call.operation === 'get'
        ? { status: 200, body: { records: outcome.records } }
        : { status: 200, body: { deleted: outcome.deleted } };
  }
}

function grpcRefusal(outcome: Exclude<Outcome<GrpcRefusal>, Answered>): GrpcRefusal {
  if (outcome.kind === 'unavailable') return { code: status.UNAVAILABLE, details: 'Try again later.' };
  if (outcome.kind === 'unauthenticated') {
    return { code: status.UNAUTHENTICATED, details: `${outcome.error.code}: ${outcome.error.message}` };
  }
  switch (outcome.kind) {
    case 'own':
      return outcome.own;
    case 'not-found':
      return { code: status.NOT_FOUND, details: 'Nothing about this person.' };
    case 'bad-request':
      return { code: status.INVALID_ARGUMENT, details: 'mode must be MODE_ROWS or MODE_PII' };
    case 'no-route':
      return { code: status.UNIMPLEMENTED };
  }
}

/** The identifier values a record may be stored under; an address group is not matched. */
function identifierValues(identifiers: Record<string, unknown>): string[] {
  return ['subject', 'email', 'phone', 'customKey', 'customKey2', 'customKey3']
    .map((key) => identifiers[key])
    .filter((value): value is string => typeof value === 'string' && value !== '');
}

function identifiersFromWire(wire: PdIdentifiers | null): Identifiers {
  if (wire === null) return {};
  const text = (value: string) => (value === '' ? undefined : value);
  const entries = Object.entries({
    subject: text(wire.subject),
    email: text(wire.email),
    phone: text(wire.phone),
    customKey: text(wire.custom_key),
    customKey2: text(wire.custom_key_2),
    customKey3: text(wire.custom_key_3),
  }).filter(([, value]) => value !== undefined);
  const address = wire.address && wire.address.address !== '' ? { address: wire.address.address } : undefined;
  return { ...Object.fromEntries(entries), ...(address ? { address } : {}) };
}

function modeFromWire(mode: PdDeleteRequest['mode']): string {
  return mode === 'MODE_ROWS' ? 'rows' : mode === 'MODE_PII' ? 'pii' : 'unspecified';
}

/** The proto's rule: strings as they are, other values as JSON text, null values left out. */
function recordToWire(record: ClientRecord): PdRecord {
  const fields = Object.entries(record.fields)
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([name, value]) => [name, typeof value === 'string' ? value : JSON.stringify(value)]);
  return { dataset: record.dataset ?? '', pk: record.pk ?? '', fields: Object.fromEntries(fields) };
}

function clearFields(record: ClientRecord): ClientRecord {
  return { ...record, fields: Object.fromEntries(Object.keys(record.fields).map((name) => [name, null])) };
}

function metadataText(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === 'string' ? value : undefined;
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
