import { existsSync } from 'node:fs';
import { skipUnless } from '@mobilenet/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { REDIS_SERVER, freePort, startRedis } from '../test/redis.js';

const skip = skipUnless(
  'redis-server',
  existsSync(REDIS_SERVER) ? null : `no ${REDIS_SERVER} (apt-get install redis-server)`,
);
import { backoffMs, connect, parseQueueAddress, ready } from './connection.js';

describe('parseQueueAddress', () => {
  it('reads redis://HOST:PORT/DB with defaults', () => {
    expect(parseQueueAddress('redis://10.0.0.5:6380/2')).toMatchObject({
      host: '10.0.0.5',
      port: 6380,
      db: 2,
      shown: 'redis://10.0.0.5:6380/2',
    });
    expect(parseQueueAddress('redis://queue.local')).toMatchObject({ host: 'queue.local', port: 6379, db: 0 });
    expect(parseQueueAddress('redis://:secret@h:1/0')).toMatchObject({ password: 'secret', shown: 'redis://h:1/0' });
  });

  it('names what is wrong', () => {
    expect(() => parseQueueAddress('localhost:6379')).toThrow(
      /expected redis:\/\/HOST:PORT\/DB, received 'localhost:6379' \(scheme localhost: is not redis:\)/,
    );
    expect(() => parseQueueAddress('http://h/0')).toThrow(/scheme http: is not redis:/);
    expect(() => parseQueueAddress('redis://h/16')).toThrow(/database '16' is not an integer from 0 to 15/);
    expect(() => parseQueueAddress('redis://h/x')).toThrow(/database 'x'/);
  });
});

describe('an unreachable Redis', () => {
  it('is retried with growing waits (never a busy loop), said once, then given up with an error naming the address', async () => {
    const port = await freePort(); // nothing listens there
    const told: string[] = [];
    const t0 = Date.now();
    const redis = connect(parseQueueAddress(`redis://127.0.0.1:${port}/0`), {
      onState: (t) => told.push(t),
      giveUpMs: 2500,
    });
    let attempts = 0;
    redis.on('reconnecting', () => attempts++);
    await expect(ready(redis, parseQueueAddress(`redis://127.0.0.1:${port}/0`))).rejects.toThrow(
      new RegExp(`cannot reach Redis at redis://127.0.0.1:${port}/0: is redis-server running there`),
    );
    const seconds = (Date.now() - t0) / 1000;
    // 250, 500, 1000, 2000 ms... : about 4 tries in 2.5 s, where a busy loop would make thousands.
    expect(attempts).toBeLessThanOrEqual(6);
    expect(seconds).toBeGreaterThanOrEqual(2.5);
    expect(told[0]).toMatch(
      new RegExp(`cannot reach Redis at redis://127.0.0.1:${port}/0 \\(ECONNREFUSED\\); retrying with backoff`),
    );
    expect(told.filter((t) => t.startsWith('cannot reach')).length).toBe(1);
    redis.disconnect();
  });

  it('backs off from 250 ms, doubling, up to 5 s', () => {
    expect([0, 1, 2, 3, 4, 5, 50].map((n) => backoffMs(n))).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
  });
});

describe.skipIf(skip)(`a Redis that comes back${skip ? ` (${skip})` : ''}`, () => {
  const started: { cleanup: () => Promise<void> }[] = [];
  afterAll(async () => {
    for (const s of started) await s.cleanup();
  });

  it('is reconnected to, and what AOF kept is there', async () => {
    const server = await startRedis();
    started.push(server);
    const told: string[] = [];
    const redis = connect(parseQueueAddress(server.url), { onState: (t) => told.push(t) });
    await ready(redis, parseQueueAddress(server.url));
    await redis.set('k', 'kept');
    await server.restart();
    // The command waits across the outage (maxRetriesPerRequest: null) instead of failing.
    expect(await redis.get('k')).toBe('kept');
    redis.disconnect();
  });
});
