import { downloadFromApi } from './api.js';

/**
 * Saves an API answer as a file. The browser cannot add the Authorization header to a plain link,
 * so the file is fetched with the token and handed to the browser as a local blob.
 */
export async function saveApiFile(
  token: string,
  path: string,
  fileName: string,
  accept?: string,
): Promise<void> {
  saveBlob(await downloadFromApi(token, path, accept), fileName);
}

/** Hands a blob made in the page to the browser as a file download. */
export function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  try {
    const link = document.createElement('a');
    link.href = url;
    link.download = fileName;
    document.body.append(link);
    link.click();
    link.remove();
  } finally {
    // The click has started the download; the blob may go once the event loop turns.
    setTimeout(() => URL.revokeObjectURL(url), 0);
  }
}
