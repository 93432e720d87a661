import { AppError } from '../domain/app-error.js';

/**
 * Opaque keyset cursors: the position of the last item, base64url-encoded JSON. Clients pass
 * them back unchanged; anything else is INVALID_CURSOR, never a 500.
 */
export function encodeCursor(position: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

export function decodeCursor(cursor: string, shape: readonly ('string' | 'number')[]): (string | number)[] {
  let position: unknown;
  try {
    position = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new AppError('INVALID_CURSOR');
  }
  if (
    !Array.isArray(position) ||
    position.length !== shape.length ||
    position.some((value, index) => typeof value !== shape[index])
  ) {
    throw new AppError('INVALID_CURSOR');
  }
  return position as (string | number)[];
}
