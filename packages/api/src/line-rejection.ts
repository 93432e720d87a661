import { Type, type Static } from 'typebox';

/** A refused line of an imported file (CSV or NDJSON): where, and why, with a stable code. */
export const LineRejection = Type.Object({
  /** 1-based physical line of the file. */
  line: Type.Integer(),
  /** The CSV column (header name) at fault, when there is one. */
  column: Type.Optional(Type.String()),
  code: Type.String(),
  message: Type.String(),
});
export type LineRejection = Static<typeof LineRejection>;
