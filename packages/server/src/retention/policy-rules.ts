import { LEGAL_BASES, type LegalBasis, type PolicyInput } from '@lethe/api';
import { AppError } from '../lib/app-error.js';
import { parseDuration, type Duration } from '../lib/duration.js';
import { requireAging, type Aging } from './aging/aging.js';

const PURPOSE = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/;

export interface ValidPolicyInput extends PolicyInput {
  readonly legalBasis: LegalBasis;
  readonly duration: Duration;
  readonly since: string;
  readonly aging: Aging;
}

export function isLegalBasis(value: string): value is LegalBasis {
  return (LEGAL_BASES as readonly string[]).includes(value);
}

/** Parses a retention or throws INVALID_DURATION naming the bad value. */
export function requireDuration(retention: string): Duration {
  const duration = parseDuration(retention);
  if (!duration) {
    throw new AppError(
      'INVALID_DURATION',
      `"${retention}" is not an ISO 8601 duration such as P2Y, P6M or PT36H.`,
    );
  }
  return duration;
}

export function validatePolicyInput(input: PolicyInput): ValidPolicyInput {
  const duration = requireDuration(input.retention);
  if (!isLegalBasis(input.legalBasis)) {
    throw new AppError(
      'UNKNOWN_LEGAL_BASIS',
      `"${input.legalBasis}" is not a legal basis; use one of ${LEGAL_BASES.join(', ')}.`,
    );
  }
  if (!PURPOSE.test(input.purpose)) {
    throw new AppError(
      'INVALID_PURPOSE',
      `"${input.purpose}" is not a dotted purpose key such as marketing.email.`,
    );
  }
  const since = input.since ?? 'last-use';
  return { ...input, legalBasis: input.legalBasis, duration, since, aging: requireAging(since) };
}
