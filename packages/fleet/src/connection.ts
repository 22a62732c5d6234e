import { Redis, type RedisOptions } from 'ioredis';

/** Where the queue lives: `redis://HOST:PORT/DB` (the port defaults to 6379, the database to 0). */
export interface QueueAddress {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  /** The address as messages show it (no password). */
  readonly shown: string;
  readonly password?: string;
  readonly username?: string;
}

/** A queue address that is not `redis://HOST:PORT/DB`: named with what was received. */
export class QueueAddressError extends Error {
  constructor(received: string, why: string) {
    super(`--queue: expected redis://HOST:PORT/DB, received '${received}' (${why})`);
    this.name = 'QueueAddressError';
  }
}

export function parseQueueAddress(text: string): QueueAddress {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new QueueAddressError(text, 'not a URL');
  }
  if (url.protocol !== 'redis:') throw new QueueAddressError(text, `scheme ${url.protocol} is not redis:`);
  if (!url.hostname) throw new QueueAddressError(text, 'no host');
  const port = url.port === '' ? 6379 : Number(url.port);
  const dbText = url.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0 || db > 15 || !/^\d*$/.test(dbText))
    throw new QueueAddressError(text, `database '${dbText}' is not an integer from 0 to 15`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return {
    host,
    port,
    db,
    shown: `redis://${url.hostname}:${port}/${db}`,
    ...(url.password && { password: decodeURIComponent(url.password) }),
    ...(url.username && { username: decodeURIComponent(url.username) }),
  };
}

/** Backoff between reconnection attempts: 250 ms doubling to `maxMs`, so an unreachable Redis is never a busy loop. */
export const backoffMs = (attempt: number, maxMs = 5000): number => Math.min(maxMs, 250 * 2 ** Math.min(attempt, 10));

export interface ConnectOptions {
  /** Told once per outage (and when it is over), never per retry burst. */
  readonly onState?: (text: string) => void;
  /** Give up after this long without a connection (undefined: wait for ever, as a worker does). */
  readonly giveUpMs?: number;
}

/**
 * A Redis connection for BullMQ (`maxRetriesPerRequest: null`: commands wait across a Redis restart instead of
 * failing) that retries with backoff and says what it is doing. With `giveUpMs`, a Redis that stays unreachable
 * that long fails the commands waiting on it with an error naming the address.
 */
export function connect(address: QueueAddress, o: ConnectOptions = {}): Redis {
  let downSince: number | undefined;
  let told = false;
  const options: RedisOptions = {
    host: address.host,
    port: address.port,
    db: address.db,
    ...(address.password && { password: address.password }),
    ...(address.username && { username: address.username }),
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    connectTimeout: 5000,
    retryStrategy: (times) => {
      downSince ??= Date.now();
      if (o.giveUpMs !== undefined && Date.now() - downSince > o.giveUpMs) return null;
      const wait = backoffMs(times);
      if (!told) {
        o.onState?.(
          `cannot reach Redis at ${address.shown} (${lastError ?? 'no answer'}); retrying with backoff up to ${backoffMs(99) / 1000} s`,
        );
        told = true;
      }
      return wait;
    },
  };
  let lastError: string | undefined;
  const redis = new Redis(options);
  redis.on('error', (e: Error) => {
    lastError = (e as NodeJS.ErrnoException).code ?? e.message;
  });
  redis.on('ready', () => {
    if (told) o.onState?.(`reconnected to Redis at ${address.shown}`);
    downSince = undefined;
    told = false;
  });
  redis.on('end', () => {
    if (o.giveUpMs !== undefined && downSince !== undefined)
      o.onState?.(
        `gave up on Redis at ${address.shown} after ${Math.round(o.giveUpMs / 1000)} s (${lastError ?? 'no answer'})`,
      );
  });
  return redis;
}

/** Waits for the first connection, or throws a clear error once the connection gave up (see `giveUpMs`). */
export async function ready(redis: Redis, address: QueueAddress): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const onReady = () => (off(), resolve());
    const onEnd = () => (
      off(),
      reject(
        new Error(
          `cannot reach Redis at ${address.shown}: is redis-server running there? (mobilenet worker and the producer need the same address)`,
        ),
      )
    );
    const off = () => redis.off('ready', onReady).off('end', onEnd);
    redis.on('ready', onReady).on('end', onEnd);
  });
}
