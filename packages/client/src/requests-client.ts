import type {
  Connector,
  ConnectorInput,
  ImportResult,
  ReportRow,
  RequestInput,
  RequestList,
  RequestTask,
  RightsRequest,
  TicketDoneInput,
  ManualDoneInput,
} from '@lethe/api';
import { searchParams, segment } from './http-transport.js';
import type { ListResult, RequestOptions } from './client-base.js';
import { WebhooksClient } from './webhooks-client.js';

/** Rights requests, tickets and SQL connectors: the part of {@link LetheClient} that steers requests. */
export abstract class RequestsClient extends WebhooksClient {
  // Rights requests ---------------------------------------------------------------------------

  async createRequest(input: RequestInput, options?: RequestOptions): Promise<RightsRequest> {
    return this.transport.json({ method: 'POST', path: '/v1/requests', body: input, ...options });
  }

  /** Imports the inbound requests table (CSV text); bad rows come back in `rejected` with their line. */
  async importRequests(csv: string, options?: RequestOptions): Promise<ImportResult> {
    const text = { body: csv, contentType: 'text/csv' };
    return this.transport.json({ method: 'POST', path: '/v1/requests/import', text, ...options });
  }

  async getRequest(id: string, options?: RequestOptions): Promise<RightsRequest> {
    return this.transport.json({ method: 'GET', path: `/v1/requests/${segment(id)}`, ...options });
  }

  async listRequests(
    query: { status?: string; overdue?: boolean; limit?: number; cursor?: string } = {},
    options?: RequestOptions,
  ): Promise<RequestList> {
    return this.transport.json({
      method: 'GET',
      path: '/v1/requests',
      query: searchParams(query),
      ...options,
    });
  }

  /**
   * A step people take on a request: `verify-identity` (`{method}`), `approve`, `deny` and
   * `cancel` and `extend` (`{reason}`), `confirm-receipt`, `delivered`.
   */
  async requestStep(
    id: string,
    step: string,
    body: object = {},
    options?: RequestOptions,
  ): Promise<RightsRequest> {
    const path = `/v1/requests/${segment(id)}/${segment(step)}`;
    return this.transport.json({ method: 'POST', path, body, ...options });
  }

  async retryTask(id: string, task: number, options?: RequestOptions): Promise<RightsRequest> {
    const path = `/v1/requests/${segment(id)}/tasks/${task}/retry`;
    return this.transport.json({ method: 'POST', path, body: {}, ...options });
  }

  /** Approves the erasure plan a task waits with (`waiting_approval`); the task runs again. */
  async approveErasure(id: string, task: number, options?: RequestOptions): Promise<RightsRequest> {
    const path = `/v1/requests/${segment(id)}/tasks/${task}/approve`;
    return this.transport.json({ method: 'POST', path, body: {}, ...options });
  }

  /**
   * Skips a task with a reason (admin, dpo): the request completes without that system, and its
   * status reason and DSAR package say so.
   */
  async skipTask(id: string, task: number, reason: string, options?: RequestOptions): Promise<RightsRequest> {
    const path = `/v1/requests/${segment(id)}/tasks/${task}/skip`;
    return this.transport.json({ method: 'POST', path, body: { reason }, ...options });
  }

  /** Marks a task done by hand (admin, dpo): its team handled it outside Lethe; the note is required. */
  async markTaskDone(
    id: string,
    task: number,
    input: ManualDoneInput,
    options?: RequestOptions,
  ): Promise<RightsRequest> {
    const path = `/v1/requests/${segment(id)}/tasks/${task}/mark-done`;
    return this.transport.json({ method: 'POST', path, body: input, ...options });
  }

  /** Cancels a request with a reason: its open tasks stop and its personal data goes at once. */
  async cancelRequest(id: string, reason: string, options?: RequestOptions): Promise<RightsRequest> {
    return this.requestStep(id, 'cancel', { reason }, options);
  }

  /** Extends the deadline once, as far as the jurisdiction allows (GDPR: two months), with the legal reason. */
  async extendRequest(id: string, reason: string, options?: RequestOptions): Promise<RightsRequest> {
    return this.requestStep(id, 'extend', { reason }, options);
  }

  /** Marks a ticket done: the team acted on the request in their system. */
  async completeTicket(
    id: string,
    task: number,
    input: TicketDoneInput = {},
    options?: RequestOptions,
  ): Promise<RightsRequest> {
    const path = `/v1/requests/${segment(id)}/tasks/${task}/complete`;
    return this.transport.json({ method: 'POST', path, body: input, ...options });
  }

  async listTickets(
    options?: RequestOptions,
  ): Promise<ListResult<RequestTask & { requestId: string; type: string; dueAt: string }>> {
    return this.transport.json({ method: 'GET', path: '/v1/tickets', ...options });
  }

  async requestReport(id: string, options?: RequestOptions): Promise<ListResult<ReportRow>> {
    return this.transport.json({ method: 'GET', path: `/v1/requests/${segment(id)}/report`, ...options });
  }

  async putConnector(name: string, input: ConnectorInput, options?: RequestOptions): Promise<Connector> {
    return this.transport.json({
      method: 'PUT',
      path: `/v1/connectors/${segment(name)}`,
      body: input,
      ...options,
    });
  }
}
