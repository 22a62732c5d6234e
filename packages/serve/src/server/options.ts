// The server's settings and their defaults (`mobilenet serve --help` states the same).
import type { RequestLimits } from '../protocol/request.js';

export interface ServerOptions {
  /** Default 127.0.0.1: reachable from this machine only, unless asked. */
  host: string;
  /** 0: any free port (the address is in `url`). */
  port: number;
  /** Rows in one run; 1 turns dynamic batching off. */
  maxBatch: number;
  maxQueueDelayUs: number;
  /** Requests waiting per model; one more answers 503 with Retry-After. */
  maxQueue: number;
  /** Batches running at once per model. */
  maxInFlight: number;
  /** Each request's whole time (reading its body, waiting, running), in milliseconds. */
  timeoutMs: number;
  /** Largest request body, in bytes. */
  maxBodyBytes: number;
  /** Bounds on each tensor (elements, bytes, rank, count). */
  limits: Partial<RequestLimits>;
  /** Connections open at once; more are refused by the socket layer. */
  maxConnections: number;
  /** A bearer token every endpoint but the health checks requires; absent: no authentication. */
  token?: string;
  /** The origin allowed to call from a browser (`*` for any); absent: no CORS headers (browsers refuse). */
  cors?: string;
  /** One JSON line per request and event; default: none. */
  log: (line: string) => void;
}

export const DEFAULT_SERVER_OPTIONS: Readonly<ServerOptions> = {
  host: '127.0.0.1',
  port: 8000,
  maxBatch: 32,
  maxQueueDelayUs: 2000,
  maxQueue: 256,
  maxInFlight: 1,
  timeoutMs: 30_000,
  maxBodyBytes: 64 * 1024 * 1024,
  limits: { maxTensorBytes: 256 * 1024 * 1024 },
  maxConnections: 1024,
  log: () => {},
};
