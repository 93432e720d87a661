import type { ChannelCredentials } from '@grpc/grpc-js';
import type { CallTokens } from '../../auth/call-tokens.js';
import type { CallOut } from './call-out.js';
import { GrpcRightsClient } from './grpc-rights-client.js';
import { HttpRightsClient } from './http-rights-client.js';
import { RightsClientError, type RightsClientTransport } from './rights-client.js';

/** The slice of a data-map rights client a transport needs (`RightsClient` of `@lethe/api` fits). */
export interface RightsClientEndpoint {
  readonly name: string;
  /** `http`, `grpc`; `ticket` clients have no transport (a person does the work). */
  readonly protocol: string;
  /** `http(s)://…` for http, `host:port` for grpc. */
  readonly address?: string;
}

export interface RightsClientTransportDeps {
  readonly callOut: CallOut;
  readonly tokens: CallTokens;
  /** For gRPC clients; default TLS against the system's roots. */
  readonly grpcCredentials?: 'insecure' | ChannelCredentials;
}

/**
 * The transport for one rights client, by its protocol. Throws a non-retryable
 * {@link RightsClientError} for a client it cannot reach (no address, unknown protocol), and a
 * TypeError for a `ticket` client, which the requests service handles itself.
 */
export function createTransport(
  client: RightsClientEndpoint,
  deps: RightsClientTransportDeps,
): RightsClientTransport {
  if (client.protocol === 'ticket') {
    throw new TypeError(`Rights client "${client.name}" is a ticket client: it has no transport.`);
  }
  if (client.protocol !== 'http' && client.protocol !== 'grpc') {
    throw new RightsClientError(
      `Rights client "${client.name}" has an unknown protocol "${client.protocol}".`,
      false,
    );
  }
  if (client.address === undefined || client.address === '') {
    throw new RightsClientError(`Rights client "${client.name}" has no address.`, false);
  }
  if (client.protocol === 'http') {
    return new HttpRightsClient({ name: client.name, address: client.address, callOut: deps.callOut });
  }
  return new GrpcRightsClient({
    name: client.name,
    address: client.address,
    tokens: deps.tokens,
    ...(deps.grpcCredentials !== undefined ? { credentials: deps.grpcCredentials } : {}),
  });
}
