import {
  ContractHistory,
  ContractParams,
  ContractVersionParams,
  DataContract,
  DataContractInput,
  ListOf,
} from '@lethe/api';
import type { Services } from '../services.js';
import { principalOf } from '../http/authenticate.js';
import type { TypedApp } from '../http/typed-app.js';

export function contractRoutes(app: TypedApp, { contracts }: Services) {
  app.get(
    '/v1/contracts',
    {
      config: { action: 'contracts:read' },
      schema: {
        operationId: 'listContracts',
        summary: 'List data contracts',
        tags: ['streams'],
        description: 'The newest version of every data contract.',
        response: { 200: ListOf(DataContract) },
      },
    },
    async (request) => ({ items: await contracts.list(principalOf(request)) }),
  );

  app.get(
    '/v1/contracts/:name',
    {
      config: { action: 'contracts:read' },
      schema: {
        operationId: 'getContract',
        summary: 'Get a data contract',
        tags: ['streams'],
        description: 'The newest version of a contract and the list of its versions.',
        params: ContractParams,
        response: { 200: ContractHistory },
      },
    },
    (request) => contracts.history(principalOf(request), request.params.name),
  );

  app.get(
    '/v1/contracts/:name/versions/:version',
    {
      config: { action: 'contracts:read' },
      schema: {
        operationId: 'getContractVersion',
        summary: 'Get a data contract version',
        tags: ['streams'],
        params: ContractVersionParams,
        response: { 200: DataContract },
      },
    },
    (request) => contracts.version(principalOf(request), request.params.name, request.params.version),
  );

  app.put(
    '/v1/contracts/:name',
    {
      config: { action: 'contracts:write' },
      schema: {
        operationId: 'putContract',
        summary: 'Publish a data contract version',
        tags: ['streams'],
        description:
          'Publishes a contract version (201). The same version again with the same content is a no-op ' +
          '(200); with other content it is refused (409 CONTRACT_VERSION_EXISTS): versions are immutable.',
        params: ContractParams,
        body: DataContractInput,
        response: { 200: DataContract, 201: DataContract },
      },
    },
    async (request, reply) => {
      const written = await contracts.put(principalOf(request), request.params.name, request.body);
      return reply.status(written.created ? 201 : 200).send(written.value);
    },
  );
}
