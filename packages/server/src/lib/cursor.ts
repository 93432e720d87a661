import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError } from './app-error.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Opaque keyset cursors: the position of the last item, sealed with AES-256-GCM. Sealed because
 * a position holds a subject id, which a pseudonymised reader must not learn from a cursor, and
 * because a cursor the server did not issue is refused (INVALID_CURSOR, never a 500).
 */
export class CursorCodec {
  constructor(private readonly key: Buffer) {}

  encode(position: readonly (string | number)[]): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const sealed = Buffer.concat([cipher.update(JSON.stringify(position), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
  }

  decode(cursor: string, shape: readonly ('string' | 'number')[]): (string | number)[] {
    let position: unknown;
    try {
      const bytes = Buffer.from(cursor, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, IV_BYTES));
      decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const plain = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
      position = JSON.parse(plain.toString('utf8'));
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
}
