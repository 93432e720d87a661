import type { ValidateFunction } from 'ajv/dist/2020.js';
import type { StreamEventRejection } from '@lethe/api';
import type { Taxonomy } from '../../lib/taxonomy.js';
import { formatContractRef, type ContractRef } from './contract-ref.js';
import { ruleRejections, type CompiledRule } from './contract-rule.js';
import { rejectionOfAjvError } from './event-rejection.js';

/** A contract checked and ready to validate events; made by `compileContract`. */
export class CompiledContract implements ContractRef {
  readonly #validateData: ValidateFunction;
  readonly #rules: readonly CompiledRule[];

  /** @internal use `compileContract` */
  constructor(
    readonly name: string,
    readonly version: number,
    /** The event schema as enforced: closed objects made explicit. */
    readonly schema: Readonly<Record<string, unknown>>,
    readonly keyLink: string,
    readonly subject: string,
    /** Personal attribute -> the purposes it may be used for, as the contract lists them. */
    readonly personal: ReadonlyMap<string, readonly string[]>,
    /** The purpose taxonomy consent and purposes were checked against. */
    readonly purposes: Taxonomy,
    validateData: ValidateFunction,
    rules: readonly CompiledRule[],
  ) {
    this.#validateData = validateData;
    this.#rules = rules;
  }

  get ref(): string {
    return formatContractRef(this);
  }

  /** @internal the data rejections of `validateEvent` */
  dataRejections(data: unknown): StreamEventRejection[] {
    const reasons: StreamEventRejection[] = [];
    const wrongTypes = new Set<string>();
    if (!this.#validateData(data)) {
      for (const error of this.#validateData.errors ?? []) {
        const reason = rejectionOfAjvError(error, data);
        if (reason.code === 'WRONG_TYPE') wrongTypes.add(reason.path);
        reasons.push(reason);
      }
    }
    for (const rule of this.#rules) reasons.push(...ruleRejections(rule, data, wrongTypes));
    return reasons;
  }
}
