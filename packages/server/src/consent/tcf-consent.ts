/**
 * IAB TCF v2.2 TC strings read as consent per Lethe purpose (docs/consent.md, "TCF").
 *
 * A TC string records the subject's whole choice at one moment: every purpose bit is either set
 * (consent) or not (no consent). So each purpose of the table below yields a grant or a
 * withdrawal, dated by the string's `lastUpdated`, never "nothing".
 */
import { TCString, type TCModel } from '@iabtechlabtcf/core';
import { AppError } from '../lib/app-error.js';

/** One row of the mapping: a TCF v2.2 purpose and the Lethe purpose key it feeds, if any. */
export interface TcfPurposeMapping {
  readonly tcfPurpose: number;
  readonly name: string;
  /** A key of the default purpose taxonomy; absent when no Lethe purpose fits. */
  readonly purpose?: string;
}

/**
 * The one mapping from TCF v2.2 purposes to Lethe purposes. Several TCF purposes may feed one
 * key: the key is granted only when all of them are (consent must cover the whole purpose).
 * Purpose 1 (device storage) is an ePrivacy permission for a means, not a purpose of processing,
 * so it has no key.
 */
export const TCF_PURPOSE_MAP: readonly TcfPurposeMapping[] = [
  { tcfPurpose: 1, name: 'Store and/or access information on a device' },
  { tcfPurpose: 2, name: 'Use limited data to select advertising', purpose: 'marketing.advertising' },
  { tcfPurpose: 3, name: 'Create profiles for personalised advertising', purpose: 'marketing.profiling' },
  { tcfPurpose: 4, name: 'Use profiles to select personalised advertising', purpose: 'marketing.profiling' },
  {
    tcfPurpose: 5,
    name: 'Create profiles to personalise content',
    purpose: 'personalization.recommendations',
  },
  {
    tcfPurpose: 6,
    name: 'Use profiles to select personalised content',
    purpose: 'personalization.recommendations',
  },
  { tcfPurpose: 7, name: 'Measure advertising performance', purpose: 'analytics.reporting' },
  { tcfPurpose: 8, name: 'Measure content performance', purpose: 'analytics.product' },
  {
    tcfPurpose: 9,
    name: 'Understand audiences through statistics or combinations of data from different sources',
    purpose: 'analytics',
  },
  { tcfPurpose: 10, name: 'Develop and improve services', purpose: 'research' },
  { tcfPurpose: 11, name: 'Use limited data to select content', purpose: 'personalization' },
];

/** TCF v2.2 is policy version 4; earlier policies had other purpose texts and no purpose 11. */
export const MIN_TCF_POLICY_VERSION = 4;
const TCF_ENCODING_VERSION = 2;
const CORE_SEGMENT = 0;
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** What a TC string says, as Lethe records it. */
export interface TcfConsent {
  /** Lethe purpose key → granted (true) or withdrawn (false), for every mapped key. */
  readonly purposes: Readonly<Record<string, boolean>>;
  /** The string's lastUpdated, ms since the epoch: when the subject made this choice. */
  readonly at: number;
  readonly proof: { readonly method: 'tcf'; readonly source: string; readonly noticeVersion: string };
}

/**
 * Decodes a TC string and maps its consents to Lethe purposes. Throws `TCF_STRING_INVALID` for
 * what is not a TC string and `TCF_VERSION_UNSUPPORTED` for TCF v1 or a policy before v2.2.
 *
 * The consent bits read are the core segment's purpose consents, which every CMP sets. The
 * publisher TC segment is not read: the reference encoder writes one into every service-specific
 * string, all zeros unless the CMP manages publisher purposes, so its presence says nothing.
 *
 * @example
 * decodeTcfConsent('CQ...AAAA').purposes; // { 'marketing.advertising': true, analytics: false, … }
 */
export function decodeTcfConsent(tcString: string): TcfConsent {
  if (segmentType(tcString.split('.')[0] ?? '') !== CORE_SEGMENT) {
    throw invalid('it does not begin with a TCF core segment');
  }
  // The core segment's first six bits are its encoding version; TCF v1 strings are version 1.
  const encodingVersion = BASE64URL.indexOf(tcString.charAt(0));
  if (encodingVersion !== TCF_ENCODING_VERSION) {
    throw new AppError(
      'TCF_VERSION_UNSUPPORTED',
      `The TC string is TCF v${encodingVersion}; only TCF v2 (policy ${MIN_TCF_POLICY_VERSION}, v2.2, or later) is read.`,
      { version: encodingVersion },
    );
  }
  let model: TCModel;
  try {
    model = TCString.decode(tcString);
  } catch (error) {
    // The library throws its DecodingError, but also TypeErrors on truncated segments.
    throw invalid((error as Error).message);
  }
  const policyVersion = Number(model.policyVersion);
  if (policyVersion < MIN_TCF_POLICY_VERSION) {
    throw new AppError(
      'TCF_VERSION_UNSUPPORTED',
      `The TC string follows TCF policy version ${policyVersion}; TCF v2.2 (policy ${MIN_TCF_POLICY_VERSION}) or later is required.`,
      { policyVersion },
    );
  }
  const at = model.lastUpdated?.getTime();
  if (at === undefined || !Number.isFinite(at)) throw invalid('its lastUpdated is not a time');
  const purposes: Record<string, boolean> = {};
  for (const { tcfPurpose, purpose } of TCF_PURPOSE_MAP) {
    if (purpose === undefined) continue;
    purposes[purpose] = (purposes[purpose] ?? true) && model.purposeConsents.has(tcfPurpose);
  }
  return {
    purposes,
    at,
    proof: {
      method: 'tcf',
      source: `cmp:${model.cmpId} v${model.cmpVersion}`,
      noticeVersion: `tcf-policy:${policyVersion} gvl:${model.vendorListVersion}`,
    },
  };
}

/** The segment type in a segment's first three bits; -1 when it starts with no base64url character. */
function segmentType(segment: string): number {
  const sextet = segment === '' ? -1 : BASE64URL.indexOf(segment.charAt(0));
  return sextet === -1 ? -1 : sextet >> 3;
}

function invalid(reason: string): AppError {
  return new AppError('TCF_STRING_INVALID', `The TC string cannot be decoded: ${reason}.`);
}
