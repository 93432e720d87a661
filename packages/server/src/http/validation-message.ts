import type { FastifySchemaValidationError } from 'fastify';

interface Issue {
  path: string;
  message: string;
  property?: unknown;
}

/**
 * The `VALIDATION_FAILED` message and details for the schema's issues. A value outside a union
 * of literals (`type: "erase"`) comes from Ajv as one "must be equal to constant" per literal and
 * a "must match a schema in anyOf", which names none of them; it is said once, with the values
 * allowed: `body/type must be one of dsar, delete, delete_pii`. Other issues keep Ajv's words.
 */
export function validationFailure(
  issues: readonly FastifySchemaValidationError[],
  context: string | undefined,
  fastifyMessage: string,
): { message: string; details: Issue[] } {
  const allowed = new Map<string, unknown[]>();
  for (const issue of issues)
    if (issue.keyword === 'const')
      allowed.set(issue.instancePath, [
        ...(allowed.get(issue.instancePath) ?? []),
        issue.params['allowedValue'],
      ]);
  const details: Issue[] = [];
  for (const issue of issues) {
    const values = allowed.get(issue.instancePath);
    if (values && (issue.keyword === 'const' || issue.keyword === 'anyOf')) {
      if (issue.keyword === 'anyOf')
        details.push({
          path: issue.instancePath,
          message: `must be one of ${values.map(String).join(', ')}`,
        });
      continue;
    }
    details.push({
      path: issue.instancePath,
      message: issue.message ?? 'is not valid',
      ...(issue.keyword === 'additionalProperties' ? { property: issue.params['additionalProperty'] } : {}),
    });
  }
  // Without literals Fastify's own message is kept word for word.
  const message =
    allowed.size === 0
      ? fastifyMessage
      : details.map((detail) => `${context ?? ''}${detail.path} ${detail.message}`).join(', ');
  return { message, details };
}
