// Raw HTTP for fault tests: what a misbehaving client does (a partial body, a byte a second, a false
// Content-Length), which fetch() cannot.
import { type Socket, connect } from 'node:net';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Milliseconds from connect to the end of the answer (the socket closed or the body complete). */
  ms: number;
}

/** Connects to the server at `url`. */
export function open(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), hostname, () => resolve(s));
    s.once('error', reject);
  });
}

/** Reads one HTTP answer from a socket (until its Content-Length is complete, or the socket closes). */
export function answerOf(socket: Socket, started = performance.now()): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const done = () => {
      const text = buf.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return false;
      const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
      const headers = Object.fromEntries(
        lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
      );
      const length = Number(headers['content-length'] ?? Number.NaN);
      const body = text.slice(end + 4);
      if (!(body.length >= length)) return false;
      resolve({
        status: Number(statusLine!.split(' ')[1]),
        headers,
        body: body.slice(0, length),
        ms: performance.now() - started,
      });
      return true;
    };
    socket.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      done();
    });
    socket.on('close', () => {
      if (!done())
        reject(
          new Error(`the socket closed before a whole answer: ${JSON.stringify(buf.toString('latin1').slice(0, 200))}`),
        );
    });
    socket.on('error', () => {});
  });
}

/** Request headers for a POST of `length` bytes (declared). */
export const postHead = (path: string, length: number, extra = '') =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n${extra}\r\n`;
