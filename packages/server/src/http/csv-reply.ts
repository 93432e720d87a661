import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';

export const CSV = 'text/csv';

/** `?format=json|csv` on report routes. */
export const FormatQuery = Type.Object(
  { format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])) },
  { additionalProperties: false },
);

/** `?format=csv`, or `Accept: text/csv` without a format; anything else (a browser, no header) keeps JSON. */
export function wantsCsv(format: string | undefined, accept: string | undefined): boolean {
  if (format !== undefined) return format === 'csv';
  return accept !== undefined && accept.split(',').some((part) => part.trim().startsWith(CSV));
}

/** Sends CSV text as a download named `filename`. */
export function sendCsv(reply: FastifyReply, filename: string, text: string): FastifyReply {
  return reply
    .type(`${CSV}; charset=utf-8`)
    .header('content-disposition', `attachment; filename="${filename}"`)
    .send(text);
}
