import { isPlainObject } from './json-value.js';

export interface ContractRef {
  readonly name: string;
  readonly version: number;
}

export const CONTRACT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const CONTRACT_REF = /^([A-Za-z0-9][A-Za-z0-9._-]{0,127})@([1-9][0-9]{0,15})$/;

/** `clickstream@3` -> `{name: 'clickstream', version: 3}`; undefined when it is not such a reference. */
export function parseContractRef(text: string): ContractRef | undefined {
  const match = CONTRACT_REF.exec(text);
  if (!match) return undefined;
  const version = Number(match[2]);
  return Number.isSafeInteger(version) ? { name: match[1] ?? '', version } : undefined;
}

export function formatContractRef(ref: ContractRef): string {
  return `${ref.name}@${ref.version}`;
}

/** The contract an envelope names, for looking it up before `validateEvent`; undefined if it names none. */
export function contractRefOf(event: unknown): ContractRef | undefined {
  if (!isPlainObject(event) || typeof event.contract !== 'string') return undefined;
  return parseContractRef(event.contract);
}
