/**
 * Reads a response body as UTF-8 up to `maxBytes`, so that a misbehaving peer (a callee, a
 * discovery source) cannot exhaust memory. Over the limit the stream is cancelled and the answer
 * is `undefined`: each caller turns that into its own error.
 */
export async function readLimitedText(response: Response, maxBytes: number): Promise<string | undefined> {
  if (response.body === null) return '';
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
