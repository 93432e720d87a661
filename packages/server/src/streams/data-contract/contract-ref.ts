import { isName } from '@lethe/api';
import { isPlainObject } from './json-value.js';

export interface ContractRef {
  readonly name: string;
  readonly version: number;
}

const VERSION = /^[1-9][0-9]{0,15}$/;

/** `clickstream@3` -> `{name: 'clickstream', version: 3}`; undefined when it is not such a reference. */
export function parseContractRef(text: string): ContractRef | undefined {
  // A name holds no `@`, so the reference splits at its one `@`.
  const at = text.indexOf('@');
  const name = text.slice(0, at);
  const version = text.slice(at + 1);
  if (at === -1 || !isName(name) || !VERSION.test(version)) return undefined;
  return Number.isSafeInteger(Number(version)) ? { name, version: Number(version) } : undefined;
}

export function formatContractRef(ref: ContractRef): string {
  return `${ref.name}@${ref.version}`;
}

/** The contract an envelope names, for looking it up before `validateEvent`; undefined if it names none. */
export function contractRefOf(event: unknown): ContractRef | undefined {
  if (!isPlainObject(event) || typeof event.contract !== 'string') return undefined;
  return parseContractRef(event.contract);
}
