import type { Jurisdiction } from '@lethe/api';
import { DEFAULT_JURISDICTION_RULES, type JurisdictionRule } from './deadlines.js';
import type { CountryCode } from './identifiers.js';

/** How rights requests are handled; every field has a default that suits a GDPR controller. */
export interface RequestSettings {
  readonly defaultJurisdiction: Jurisdiction;
  readonly jurisdictions: Readonly<Record<Jurisdiction, JurisdictionRule>>;
  /** A person must record how the requester's identity was verified before work starts. */
  readonly requireVerification: boolean;
  /** A DPO must approve each request before work starts. */
  readonly requireApproval: boolean;
  /** The country of phone numbers given without a country code. */
  readonly defaultCountry?: CountryCode;
  /** Calls per task before it is `failed` (a person may retry it, which grants as many again). */
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** One call to a rights client, or one connector run. */
  readonly callTimeoutMs: number;
  /** Tasks run at once by this process. */
  readonly concurrency: number;
  /** How long a completed DSAR's findings stay readable for delivery to the person. */
  readonly dsarDeliveryWindowMs: number;
  /**
   * A connector erasure that would change more rows than this in one table waits for a DPO's
   * approval of its plan (rows per table); 0 turns the rail off. DSARs are never held.
   */
  readonly erasureApprovalRows: number;
}

export const DEFAULT_REQUEST_SETTINGS: RequestSettings = {
  defaultJurisdiction: 'gdpr',
  jurisdictions: DEFAULT_JURISDICTION_RULES,
  requireVerification: false,
  requireApproval: false,
  maxAttempts: 5,
  retryBaseMs: 2_000,
  retryMaxMs: 10 * 60_000,
  callTimeoutMs: 30_000,
  concurrency: 8,
  dsarDeliveryWindowMs: 30 * 86_400_000,
  erasureApprovalRows: 1_000,
};

/**
 * Settings from the environment: `LETHE_REQUEST_VERIFICATION=required|none`,
 * `LETHE_REQUEST_APPROVAL=required|none`, `LETHE_PHONE_REGION=GB`, `LETHE_REQUEST_JURISDICTION=ccpa`,
 * `LETHE_ERASURE_APPROVAL_ROWS=1000` (a whole number of rows per table, or `off`).
 * A value that is set but not understood stops the start with a message naming it.
 */
export function requestSettingsFromEnv(env: Readonly<Record<string, string | undefined>>): RequestSettings {
  const step = (name: string): boolean => {
    const value = env[name];
    if (value === undefined || value === '' || value === 'none') return false;
    if (value === 'required') return true;
    throw new Error(`${name} must be "required" or "none", not "${value}".`);
  };
  const jurisdiction = env['LETHE_REQUEST_JURISDICTION'];
  if (jurisdiction !== undefined && !Object.hasOwn(DEFAULT_JURISDICTION_RULES, jurisdiction)) {
    const known = Object.keys(DEFAULT_JURISDICTION_RULES).join(', ');
    throw new Error(`LETHE_REQUEST_JURISDICTION must be one of ${known}, not "${jurisdiction}".`);
  }
  const region = env['LETHE_PHONE_REGION'];
  if (region !== undefined && !/^[A-Z]{2}$/.test(region)) {
    throw new Error(`LETHE_PHONE_REGION must be an ISO 3166-1 alpha-2 code such as GB, not "${region}".`);
  }
  const approvalRows = env['LETHE_ERASURE_APPROVAL_ROWS'];
  let erasureApprovalRows = DEFAULT_REQUEST_SETTINGS.erasureApprovalRows;
  if (approvalRows === 'off') erasureApprovalRows = 0;
  else if (approvalRows !== undefined && approvalRows !== '') {
    if (!/^\d{1,9}$/.test(approvalRows)) {
      throw new Error(
        `LETHE_ERASURE_APPROVAL_ROWS must be a whole number of rows per table or "off", not "${approvalRows}".`,
      );
    }
    erasureApprovalRows = Number(approvalRows);
  }
  return {
    ...DEFAULT_REQUEST_SETTINGS,
    erasureApprovalRows,
    requireVerification: step('LETHE_REQUEST_VERIFICATION'),
    requireApproval: step('LETHE_REQUEST_APPROVAL'),
    ...(jurisdiction !== undefined ? { defaultJurisdiction: jurisdiction as Jurisdiction } : {}),
    ...(region !== undefined ? { defaultCountry: region as CountryCode } : {}),
  };
}
