import type { IncomingMessage } from 'node:http';

/**
 * HERMETIC: a stand-in's request body, as text, at most `maxBytes`; past that the request is destroyed and
 * `tooLarge()` (the service's own error) rejects. A client gone before the end of its body rejects too.
 */
export function readRequestBody(req: IncomingMessage, maxBytes: number, tooLarge: () => Error): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(tooLarge());
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
    // No-op once resolved: nothing more will come.
    req.on('close', () => reject(new Error('the client closed the connection before the end of the request')));
  });
}
