import { fileURLToPath } from 'node:url';
import {
  Client,
  credentials as channelCredentials,
  Metadata,
  status,
  type ChannelCredentials,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync, type MethodDefinition, type Options } from '@grpc/proto-loader';
import type { AddressGroup, Identifiers } from '@lethe/api';
import type { CallTokens } from '../../auth/call-tokens.js';
import {
  RightsClientError,
  type ClientRecord,
  type RightsClientAnswer,
  type RightsClientCall,
  type RightsClientTransport,
} from './rights-client.js';

/**
 * `proto/lethe/rights/v1/pdclient.proto` of the server package. Three levels up from both
 * `src/connectors/rights-clients/` (tests) and `dist/connectors/rights-clients/` (built).
 */
export const PDCLIENT_PROTO_PATH = fileURLToPath(
  new URL('../../../proto/lethe/rights/v1/pdclient.proto', import.meta.url),
);

// Wire shapes of the PDClient messages, with the proto's field names (keepCase) and every field
// present on what is received (defaults).
export interface PdAddress {
  address: string;
  address2: string;
  city: string;
  state: string;
  postal: string;
  country: string;
}
export interface PdIdentifiers {
  subject: string;
  email: string;
  phone: string;
  address: PdAddress | null;
  custom_key: string;
  custom_key_2: string;
  custom_key_3: string;
}
export interface PdGetRequest {
  request_id: string;
  task_id: string;
  identifiers: PdIdentifiers | null;
}
/** `fields` values are text: strings as they are, other values as their JSON text. */
export interface PdRecord {
  dataset: string;
  pk: string;
  fields: Record<string, string>;
}
export interface PdGetResponse {
  records: PdRecord[];
}
export type PdDeleteMode = 'MODE_UNSPECIFIED' | 'MODE_ROWS' | 'MODE_PII';
export interface PdDeleteRequest {
  request_id: string;
  task_id: string;
  identifiers: PdIdentifiers | null;
  mode: PdDeleteMode;
  categories: string[];
}
export interface PdDeleteResponse {
  /** An int64: received as a decimal string (`longs: String`), sent as a number or a string. */
  deleted: string | number;
}

/**
 * The `lethe.rights.v1.PDClient` service, for a client channel or for `Server.addService` (a type
 * alias rather than an interface so that it fits grpc-js's indexed `ServiceDefinition`).
 */
export type PdClientService = {
  readonly Get: MethodDefinition<PdGetRequest, PdGetResponse>;
  readonly Delete: MethodDefinition<PdDeleteRequest, PdDeleteResponse>;
};

const LOAD_OPTIONS: Options = { keepCase: true, longs: String, enums: String, defaults: true };
let loadedService: PdClientService | undefined;

/** Loads the proto once per process. */
export function pdClientService(): PdClientService {
  if (loadedService === undefined) {
    const service = loadSync(PDCLIENT_PROTO_PATH, LOAD_OPTIONS)['lethe.rights.v1.PDClient'];
    if (service === undefined || !('Get' in service) || !('Delete' in service)) {
      throw new Error(`${PDCLIENT_PROTO_PATH} does not define lethe.rights.v1.PDClient with Get and Delete.`);
    }
    loadedService = service as unknown as PdClientService;
  }
  return loadedService;
}

/** Codes that say "not now" rather than "no": worth a retry later. */
const PASSING_CODES: ReadonlySet<status> = new Set([
  status.UNAVAILABLE,
  status.DEADLINE_EXCEEDED,
  status.RESOURCE_EXHAUSTED,
  status.ABORTED,
  status.INTERNAL,
  status.UNKNOWN,
]);
/** How much of a client's status details goes into a {@link RightsClientError} message. */
const MAX_DETAILS_LENGTH = 300;
const NOTHING: RightsClientAnswer = { records: [], deleted: 0 };

export interface GrpcRightsClientOptions {
  /** The client's name in the data map; the call token's audience is `rights-client:<name>`. */
  readonly name: string;
  /** `host:port` (any gRPC target name works, e.g. `dns:///host:port`). */
  readonly address: string;
  readonly tokens: CallTokens;
  /**
   * Default: TLS, verified against the system's roots. `insecure` sends the call token in clear:
   * only for loopback or a network that encrypts on its own (a service mesh).
   */
  readonly credentials?: 'insecure' | ChannelCredentials;
}

/**
 * A rights client reached over gRPC: the `lethe.rights.v1.PDClient` service of
 * `proto/lethe/rights/v1/pdclient.proto`, whose comments are the contract. Every call carries
 * `authorization: Bearer <call token>` (audience `rights-client:<name>`, the actor in `act`) and
 * `x-request-id` metadata, and a deadline of the call's `timeoutMs`. NOT_FOUND is a success with
 * nothing; UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL and UNKNOWN fail
 * as retryable; any other code is a refusal.
 *
 * @example
 * const billing = new GrpcRightsClient({ name: 'billing', address: 'billing.internal:50051', tokens });
 * const { deleted } = await billing.delete({ requestId, taskId, identifiers, actor, timeoutMs: 10_000 }, 'rows');
 * billing.close();
 */
export class GrpcRightsClient implements RightsClientTransport {
  private readonly name: string;
  private readonly audience: string;
  private readonly tokens: CallTokens;
  private readonly service: PdClientService;
  private readonly client: Client;

  constructor(options: GrpcRightsClientOptions) {
    this.name = options.name;
    this.audience = `rights-client:${options.name}`;
    this.tokens = options.tokens;
    if (/^https?:\/\//i.test(options.address)) {
      throw new RightsClientError(
        `Rights client "${options.name}": a gRPC address is host:port, not the URL "${options.address}".`,
        false,
      );
    }
    this.service = pdClientService();
    const credentials =
      options.credentials === 'insecure'
        ? channelCredentials.createInsecure()
        : (options.credentials ?? channelCredentials.createSsl());
    // The channel connects on the first call and reconnects by itself afterwards.
    this.client = new Client(options.address, credentials);
  }

  async get(call: RightsClientCall): Promise<RightsClientAnswer> {
    const response = await this.unary(this.service.Get, call, {
      request_id: call.requestId,
      task_id: call.taskId,
      identifiers: identifiersToWire(call.identifiers),
    });
    if (response === undefined) return NOTHING;
    return { records: response.records.map(recordFromWire), deleted: 0 };
  }

  async delete(call: RightsClientCall, mode: 'rows' | 'pii'): Promise<RightsClientAnswer> {
    const response = await this.unary(this.service.Delete, call, {
      request_id: call.requestId,
      task_id: call.taskId,
      identifiers: identifiersToWire(call.identifiers),
      mode: mode === 'rows' ? 'MODE_ROWS' : 'MODE_PII',
      categories: mode === 'pii' ? [...(call.categories ?? [])] : [],
    });
    if (response === undefined) return NOTHING;
    return { records: [], deleted: this.deletedCount(response.deleted) };
  }

  close(): void {
    this.client.close();
  }

  /** The answer, or undefined for NOT_FOUND; throws a RightsClientError for any other failure. */
  private async unary<Request, Response>(
    method: MethodDefinition<Request, Response>,
    call: RightsClientCall,
    request: Request,
  ): Promise<Response | undefined> {
    // A fresh token per call, minted just before sending, for this client alone.
    const { token } = await this.tokens.mint({
      audience: this.audience,
      actor: call.actor,
      requestId: call.requestId,
    });
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    metadata.set('x-request-id', call.requestId);
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        metadata,
        { deadline: Date.now() + call.timeoutMs },
        (error, response) => {
          if (error === null && response !== undefined) resolve(response);
          else if (error?.code === status.NOT_FOUND) resolve(undefined);
          else reject(this.failure(method.path, error));
        },
      );
    });
  }

  private failure(path: string, error: ServiceError | null): RightsClientError {
    if (error === null) {
      return new RightsClientError(`Rights client "${this.name}" gave no answer to ${path}.`, true);
    }
    const codeName = status[error.code] ?? `code ${error.code}`;
    const details =
      error.details.length > MAX_DETAILS_LENGTH
        ? `${error.details.slice(0, MAX_DETAILS_LENGTH)}…`
        : error.details;
    return new RightsClientError(
      `Rights client "${this.name}" answered ${path} with ${codeName}${details === '' ? '' : `: ${details}`}`,
      PASSING_CODES.has(error.code),
      { cause: error },
    );
  }

  private deletedCount(deleted: string | number): number {
    const count = typeof deleted === 'number' ? deleted : /^\d+$/.test(deleted) ? Number(deleted) : NaN;
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new RightsClientError(
        `Rights client "${this.name}" answered Delete with an implausible count (${String(deleted)}).`,
        false,
      );
    }
    return count;
  }
}

/** Lethe's identifiers as the proto's `Identifiers`: an identifier not given is an empty string. */
export function identifiersToWire(identifiers: Identifiers): PdIdentifiers {
  return {
    subject: identifiers.subject ?? '',
    email: identifiers.email ?? '',
    phone: identifiers.phone ?? '',
    address: identifiers.address === undefined ? null : addressToWire(identifiers.address),
    custom_key: identifiers.customKey ?? '',
    custom_key_2: identifiers.customKey2 ?? '',
    custom_key_3: identifiers.customKey3 ?? '',
  };
}

function addressToWire(address: AddressGroup): PdAddress {
  return {
    address: address.address,
    address2: address.address2 ?? '',
    city: address.city ?? '',
    state: address.state ?? '',
    postal: address.postal ?? '',
    country: address.country ?? '',
  };
}

function recordFromWire(record: PdRecord): ClientRecord {
  return {
    ...(record.dataset !== '' ? { dataset: record.dataset } : {}),
    ...(record.pk !== '' ? { pk: record.pk } : {}),
    // Own properties only, whatever the keys are called.
    fields: Object.fromEntries(Object.entries(record.fields)),
  };
}
