// Reading a request body within bounds: a declared Content-Length over the limit is refused before a byte is
// read; a body that grows past it (chunked) is cut off; a client that goes away rejects at once.
import type { IncomingMessage } from 'node:http';
import { ProtocolError } from '../protocol/types.js';

/** Thrown when the client closed the connection before its body arrived (nobody to answer). */
export class ClientGone extends Error {
  constructor() {
    super('the client closed the connection before sending its whole body');
    this.name = 'ClientGone';
  }
}

/** Refuses a declared length over the limit (413) before reading. */
export function checkDeclaredLength(req: IncomingMessage, maxBytes: number): void {
  const declared = req.headers['content-length'];
  if (declared === undefined) return;
  if (!/^[0-9]+$/.test(declared)) throw new ProtocolError(`Content-Length: expected digits, received '${declared}'`);
  if (Number(declared) > maxBytes) {
    throw new ProtocolError(
      `the request body of ${declared} bytes (Content-Length) is more than this server's limit of ${maxBytes} bytes (--max-body)`,
      413,
    );
  }
}

/** The whole body, at most `maxBytes`. */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let done = false;
    const finish = (f: () => void) => {
      if (done) return;
      done = true;
      f();
    };
    req.on('data', (c: Buffer) => {
      total += c.length;
      if (total > maxBytes) {
        finish(() =>
          reject(new ProtocolError(`the request body is more than this server's limit of ${maxBytes} bytes`, 413)),
        );
        req.pause();
      } else chunks.push(c);
    });
    req.on('end', () => finish(() => resolve(new Uint8Array(Buffer.concat(chunks, total)))));
    req.on('close', () => finish(() => reject(new ClientGone())));
    req.on('error', () => finish(() => reject(new ClientGone())));
  });
}
