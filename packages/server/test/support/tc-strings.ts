import { GVL, Segment, TCModel, TCString } from '@iabtechlabtcf/core';

/**
 * Real TC strings, encoded by the same library a CMP uses. Encoding needs a vendor list (GVL);
 * the tests have no network, so a small one is built in memory: the purposes the string encodes
 * do not depend on its vendors.
 */
export interface TcStringOptions {
  /** TCF purposes (1–11) the subject consented to; the others are unset. */
  readonly purposeConsents: readonly number[];
  /** When given, a publisher TC segment with these consents is added. */
  readonly publisherConsents?: readonly number[];
  readonly lastUpdated: string;
  readonly cmpId?: number;
  readonly cmpVersion?: number;
  readonly vendorListVersion?: number;
  readonly policyVersion?: number;
}

export function tcString(options: TcStringOptions): string {
  const model = new TCModel(vendorList(options.vendorListVersion ?? 150, options.policyVersion ?? 4));
  model.cmpId = options.cmpId ?? 300;
  model.cmpVersion = options.cmpVersion ?? 7;
  model.isServiceSpecific = true;
  model.created = new Date(options.lastUpdated);
  model.lastUpdated = new Date(options.lastUpdated);
  if (options.purposeConsents.length) model.purposeConsents.set([...options.purposeConsents]);
  if (options.publisherConsents?.length) model.publisherConsents.set([...options.publisherConsents]);
  return TCString.encode(
    model,
    options.publisherConsents ? { segments: [Segment.CORE, Segment.PUBLISHER_TC] } : {},
  );
}

function vendorList(vendorListVersion: number, tcfPolicyVersion: number): GVL {
  const named = (count: number) =>
    Object.fromEntries(
      Array.from({ length: count }, (_, index) => [
        index + 1,
        { id: index + 1, name: `item ${index + 1}`, description: '', illustrations: [] },
      ]),
    );
  return new GVL({
    gvlSpecificationVersion: 3,
    vendorListVersion,
    tcfPolicyVersion,
    lastUpdated: '2024-01-01T00:00:00Z',
    purposes: named(11),
    specialPurposes: named(3),
    features: named(3),
    specialFeatures: named(2),
    stacks: {},
    dataCategories: {},
    vendors: {},
  });
}

/** A TCF v1 consent string (the example of the IAB's v1.1 specification). */
export const TCF_V1_STRING = 'BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASA';
