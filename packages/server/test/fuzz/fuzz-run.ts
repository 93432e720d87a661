import fc from 'fast-check';
import type { CallerToken } from './callers.js';
import type { FuzzWorld } from './fuzz-world.js';
import { knownAs } from './known-until-merged.js';
import { codeOf, inEnvelope, tokensOf, type Finding, type FindingKind } from './oracles.js';
import type { RawRequest, RawResponse } from './raw-http.js';
import { pathOf, requestArbitrary, type FuzzRequest } from './request-arbitrary.js';
import { HELD_SUBJECTS, UNKNOWN_SUBJECT } from './seeds.js';

export interface FuzzOptions {
  readonly seed: number;
  /** At most this many generated requests… */
  readonly requests: number;
  /** …and at most this long. */
  readonly timeLimitMs: number;
  /** The demo's configuration is put back every so many requests. */
  readonly restoreEvery?: number;
  readonly progress?: (figures: FuzzFigures) => void;
}

export interface FuzzFigures {
  /** Requests sent, the existence twins included. */
  requests: number;
  twins: number;
  durationMs: number;
  readonly statuses: Record<string, number>;
  readonly perOperation: Record<string, number>;
  /** Time spent waiting for answers, by operation (ms). */
  readonly msPerOperation: Record<string, number>;
  readonly perCaller: Record<string, number>;
  readonly byKind: Record<string, number>;
  /** Findings matched by KNOWN_UNTIL_MERGED, by its id. */
  readonly known: Record<string, number>;
  /** The first findings of each kind, operation and status (the others are only counted). */
  readonly findings: Finding[];
  slowest: { operation: string; ms: number };
}

/** Authenticated callers are drawn three times as often as those who must get nowhere. */
const AUTHENTICATED_WEIGHT = 3;
const KEPT_PER_SIGNATURE = 1;
/**
 * 5xx answers that are not the server failing but what it was asked to reach: "discover now" on a
 * source whose URL does not answer is a documented 502 (docs/api.md). Every other 5xx is a finding.
 */
const UPSTREAM_FAILURES = new Set(['DISCOVERY_FAILED']);
const CATALOG_WRITES = /^\/v1\/(systems|manifest|taxonomy)(\/|\?|$)/;

/**
 * Sends generated requests (fast-check drives the generation, the seed and the time limit) and
 * judges every answer. Never stops at a finding: it counts them all and keeps examples.
 */
export async function runFuzz(world: FuzzWorld, options: FuzzOptions): Promise<FuzzFigures> {
  const figures: FuzzFigures = {
    requests: 0,
    twins: 0,
    durationMs: 0,
    statuses: {},
    perOperation: {},
    msPerOperation: {},
    perCaller: {},
    byKind: {},
    known: {},
    findings: [],
    slowest: { operation: '', ms: 0 },
  };
  const kept = new Map<string, number>();
  /** The request before, for a connection the server dropped: what it did to the connection. */
  let previous = '';
  let catalogChanged = false;
  const started = performance.now();

  const record = (finding: Finding) => {
    const known = knownAs(finding);
    if (known) return void (figures.known[known] = (figures.known[known] ?? 0) + 1);
    figures.byKind[finding.kind] = (figures.byKind[finding.kind] ?? 0) + 1;
    const signature = `${finding.kind} ${finding.operation} ${finding.status}`;
    const count = kept.get(signature) ?? 0;
    kept.set(signature, count + 1);
    if (count < KEPT_PER_SIGNATURE) figures.findings.push(finding);
  };

  const send = async (request: FuzzRequest, caller: CallerToken, path: string) => {
    const raw: RawRequest = {
      method: request.method,
      path,
      headers: {
        ...(caller.authorization === undefined ? {} : { authorization: caller.authorization }),
        ...(request.contentType === undefined ? {} : { 'content-type': request.contentType }),
        ...(request.accept === undefined ? {} : { accept: request.accept }),
      },
      body: request.body,
    };
    figures.requests += 1;
    figures.perOperation[request.operation.key] = (figures.perOperation[request.operation.key] ?? 0) + 1;
    figures.perCaller[caller.caller.name] = (figures.perCaller[caller.caller.name] ?? 0) + 1;
    let response: RawResponse;
    try {
      response = await world.http.send(raw);
    } catch (error) {
      record(
        finding('no-answer', request, caller, raw, 0, `${String(error)}; the request before: ${previous}`),
      );
      return undefined;
    } finally {
      previous = `${raw.method} ${raw.path.slice(0, 200)} [${request.contentType}] ${request.body?.length ?? 0} bytes`;
    }
    figures.statuses[response.status] = (figures.statuses[response.status] ?? 0) + 1;
    const key = request.operation.key;
    figures.msPerOperation[key] = (figures.msPerOperation[key] ?? 0) + response.ms;
    if (response.ms > figures.slowest.ms)
      figures.slowest = { operation: request.operation.key, ms: response.ms };
    if (caller.categories && catalogChanged) {
      await world.refreshHidden();
      catalogChanged = false;
    }
    for (const found of judge(world, request, caller, raw, response)) record(found);
    return response;
  };

  const step = async (request: FuzzRequest) => {
    const caller = world.callers[request.caller]!;
    const path = pathOf(request);
    const response = await send(request, caller, path);
    if (response === undefined) return;
    if (caller.grantless) await existenceTwin(request, caller, response);
    if (response.status >= 300 || request.method === 'GET' || request.method === 'HEAD') return;
    if (CATALOG_WRITES.test(path)) catalogChanged = true;
    if (path.startsWith('/v1/keys/rotate')) await world.remint();
  };

  /** A grant-less auditor must get the same answer for a subject Lethe holds and one it does not. */
  const existenceTwin = async (request: FuzzRequest, caller: CallerToken, first: RawResponse) => {
    const subject = request.pathValues['subject'];
    if (subject === undefined) return;
    const twin =
      subject === UNKNOWN_SUBJECT
        ? HELD_SUBJECTS[0]
        : HELD_SUBJECTS.includes(subject)
          ? UNKNOWN_SUBJECT
          : undefined;
    if (twin === undefined) return;
    const twinRequest = { ...request, pathValues: { ...request.pathValues, subject: twin } };
    figures.twins += 1;
    const second = await send(twinRequest, caller, pathOf(twinRequest));
    if (second === undefined) return;
    if (second.status !== first.status || codeOf(second.body) !== codeOf(first.body)) {
      const detail = `${subject}: ${first.status} ${codeOf(first.body)}; ${twin}: ${second.status} ${codeOf(second.body)}`;
      record(
        finding(
          'existence',
          request,
          caller,
          { method: request.method, path: pathOf(request), headers: {} },
          first.status,
          detail,
        ),
      );
    }
  };

  let sinceRestore = 0;
  await fc.assert(
    fc.asyncProperty(
      requestArbitrary(world.operations, weights(world.callers), world.words),
      async (request) => {
        await step(request);
        sinceRestore += 1;
        if (options.restoreEvery && sinceRestore >= options.restoreEvery) {
          sinceRestore = 0;
          await world.restoreDemo().catch(() => undefined);
          catalogChanged = true;
        }
        if (options.progress && figures.requests % 5_000 < 2) options.progress(figures);
      },
    ),
    {
      seed: options.seed,
      numRuns: options.requests,
      interruptAfterTimeLimit: options.timeLimitMs,
      markInterruptAsFailure: false,
    },
  );
  figures.durationMs = performance.now() - started;
  return figures;
}

function weights(callers: readonly CallerToken[]): number[] {
  return callers.map((caller) => (caller.authenticated ? AUTHENTICATED_WEIGHT : 1));
}

/** What `response` breaks of the oracles, for this request and caller. */
function judge(
  world: FuzzWorld,
  request: FuzzRequest,
  caller: CallerToken,
  raw: RawRequest,
  response: RawResponse,
): Finding[] {
  const found: Finding[] = [];
  const { status, body } = response;
  const add = (kind: FindingKind, detail: string) =>
    found.push(finding(kind, request, caller, raw, status, detail));
  if (status >= 500 && !UPSTREAM_FAILURES.has(codeOf(body))) {
    const requestId = safeJson(body)?.error?.requestId;
    add('5xx', `${body.slice(0, 300)}\n${(requestId && world.errors.get(requestId)) ?? ''}`.trim());
  }
  if (status >= 400 && request.method !== 'HEAD' && !inEnvelope(body)) add('envelope', body.slice(0, 300));
  const isProtected = raw.path.startsWith('/v1') && request.operation.key !== 'POST /v1/session/exchange';
  if (!caller.authenticated && status < 400 && isProtected) add('unauthenticated', body.slice(0, 200));
  // The OpenAPI document is the same for everyone and its examples name a subject (`subject:u-1001`).
  if ((!caller.categories && !caller.grantless) || request.operation.key === 'GET /openapi.json')
    return found;

  const answer = tokensOf(body);
  const asked = tokensOf(`${safeDecode(raw.path)} ${request.body?.toString('utf8') ?? ''}`);
  if (caller.categories) {
    const hidden = world.hidden.get(caller.categories.join(','))!;
    const leaks = hidden.leaks(answer, asked, request.operation.key === 'GET /v1/taxonomy');
    if (leaks.length > 0) add('leak', `${leaks.join(', ')} in ${excerpt(body, leaks[0]!)}`);
  }
  if (caller.grantless) {
    const ids = [...answer].filter((token) => world.subjectIds.has(token) && !asked.has(token));
    if (ids.length > 0) add('subject-leak', `${ids.slice(0, 5).join(', ')} in ${excerpt(body, ids[0]!)}`);
    const subject = request.pathValues['subject'];
    if (subject !== undefined && HELD_SUBJECTS.includes(subject) && status < 300) {
      add('existence', `answered ${status} about ${subject}`);
    }
  }
  return found;
}

function finding(
  kind: FindingKind,
  request: FuzzRequest,
  caller: CallerToken,
  raw: RawRequest,
  status: number,
  detail: string,
): Finding {
  const body = request.body?.toString('utf8') ?? '';
  return {
    kind,
    operation: request.operation.key,
    caller: caller.caller.name,
    status,
    detail,
    request: `${raw.method} ${raw.path}${request.contentType ? ` [${request.contentType}]` : ''}${body ? ` ${body.slice(0, 400)}` : ''}`,
  };
}

function excerpt(text: string, around: string): string {
  const at = text.indexOf(around);
  return text.slice(Math.max(0, at - 120), at + around.length + 120);
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function safeJson(body: string): { error?: { requestId?: string } } | undefined {
  try {
    return JSON.parse(body) as { error?: { requestId?: string } };
  } catch {
    return undefined;
  }
}
