export type ExpositionErrorCode = 'EXPOSITION_SYNTAX' | 'EXPOSITION_LIMIT';

/** The only error `parseExposition` throws; `message` reads `line 7: unterminated label value`. */
export class ExpositionError extends Error {
  constructor(
    readonly code: ExpositionErrorCode,
    readonly reason: string,
    /** 1-based; undefined when the error is about the input as a whole. */
    readonly line?: number,
  ) {
    super(line === undefined ? reason : `line ${line}: ${reason}`);
    this.name = 'ExpositionError';
  }
}
