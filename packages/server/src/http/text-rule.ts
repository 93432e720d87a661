import type { FastifyRequest } from 'fastify';
import { AppError } from '../lib/app-error.js';
import { findBadText } from '../lib/text-rule.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The body is a batch whose items are checked one by one (`lib/text-rule.ts` or a stricter
     * rule per item): bad text refuses its event or line, not the whole request.
     */
    textPerItem?: boolean;
  }
}

/**
 * The text rule at the door (issue 16): every string that enters through the query string, the
 * path parameters or a parsed body, values and property names alike, is well-formed text
 * without NUL, else `400 INVALID_TEXT` naming where and which character. Other control
 * characters are free text's own (a newline in a description); ids have a stricter rule of their
 * own in the schemas.
 *
 * A preHandler, after the schemas: a field with a stricter rule (an id, a consent proof text)
 * answers first with its documented `VALIDATION_FAILED`, and this covers every string the
 * schemas leave open — free text, records, keys of open objects — without a pattern on each.
 * An Ajv-level rule would have to be added to every `Type.String()` and could not reach the
 * strings of open objects (`Type.Record(…, Type.Unknown())`).
 */
export async function textRule(request: FastifyRequest): Promise<void> {
  refuseBadText('query', request.query);
  refuseUndecodableQuery(request.url);
  refuseBadText('params', request.params);
  if (request.routeOptions.config.textPerItem !== true) refuseBadText('body', request.body);
}

function refuseBadText(where: 'query' | 'params' | 'body', value: unknown): void {
  const bad = findBadText(value);
  if (bad === undefined) return;
  const path = shortened(bad.path);
  const at = path === '' ? where : `${where} ${path}`;
  if (bad.tooDeep) throw new AppError('VALIDATION_FAILED', `${at} ${bad.problem}.`, { in: where, path });
  const name = bad.inName ? ' (in a property name)' : '';
  throw new AppError(
    'INVALID_TEXT',
    `${at} ${bad.problem}${name}: text must be well-formed Unicode without NUL.`,
    { in: where, path },
  );
}

/** A path as an answer quotes it: a body nested deep must not come back twice its size. */
const MAX_PATH_LENGTH = 256;
function shortened(path: string): string {
  return path.length <= MAX_PATH_LENGTH ? path : `${path.slice(0, MAX_PATH_LENGTH)}…`;
}

/**
 * The query parser keeps a percent-escape that does not decode (`%ED%A0%80`, the UTF-8 a lone
 * surrogate would have, or a bare `%`) as literal text, which would silently filter by a value
 * the client never sent. A path with one is `INVALID_URL` before routing; so is a query.
 */
function refuseUndecodableQuery(url: string): void {
  const start = url.indexOf('?');
  if (start === -1 || !url.includes('%', start)) return;
  for (const part of url.slice(start + 1).split('&')) {
    try {
      decodeURIComponent(part);
    } catch {
      throw new AppError(
        'INVALID_URL',
        'The query holds a percent-escape that is not UTF-8 text (%ED%A0%80 would be a lone surrogate).',
      );
    }
  }
}
