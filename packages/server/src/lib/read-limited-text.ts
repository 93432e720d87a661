/**
 * Reads a response body or a file stream as UTF-8 up to `maxBytes`, so that a misbehaving peer (a
 * callee, a discovery source) or an oversized file (a manifest) cannot exhaust memory. Over the
 * limit reading stops (leaving the loop cancels the body, or closes the file) and the answer is
 * `undefined`: each caller turns that into its own error.
 */
export async function readLimitedText(
  source: Response | AsyncIterable<Uint8Array>,
  maxBytes: number,
): Promise<string | undefined> {
  const body: AsyncIterable<Uint8Array> | null = source instanceof Response ? source.body : source;
  if (body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > maxBytes) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
