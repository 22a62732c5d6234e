import type { Redis } from 'ioredis';

/**
 * One image's result, as Redis keeps it (its name is not part of it: the same bytes under two names share it).
 * Classify: the top-k. Embed: where its row lies in a shard on shared storage.
 */
export type StoredResult =
  | { readonly ok: true; readonly top: readonly unknown[] }
  | { readonly ok: true; readonly shard: string; readonly row: number }
  | { readonly ok: false; readonly error: string };

/**
 * Writes a result once and tells the run: SET NX (a retried chunk's second result is dropped, the first one stays)
 * and an entry on the run's events stream either way, in one script so that a worker dying between the two cannot
 * leave a result its producer never hears of. The entry carries the stored result's ok, not this attempt's.
 */
const STORE = `
local new = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2])
local ok = ARGV[4]
if not new then
  local stored = redis.call('GET', KEYS[1])
  if stored and string.find(stored, '"ok":false', 1, true) then ok = '0' else ok = '1' end
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 'h', ARGV[3], 'ok', ok)
if new then return 1 else return 0 end
`;

/** Events kept per run: enough for any producer that reads while the run goes on (it dedups by hash). */
const EVENTS_MAX = 1_000_000;

type WithStore = Redis & {
  fleetStore(
    key: string,
    events: string,
    value: string,
    ttl: number,
    hash: string,
    ok: string,
    max: number,
  ): Promise<number>;
};

export function withStore(redis: Redis): WithStore {
  const r = redis as WithStore;
  if (!('fleetStore' in r)) redis.defineCommand('fleetStore', { numberOfKeys: 2, lua: STORE });
  return r;
}

/** Stores a chunk's results in one round trip; returns how many were new. */
export async function storeResults(
  redis: Redis,
  events: string,
  ttlS: number,
  results: readonly { readonly key: string; readonly hash: string; readonly value: StoredResult }[],
): Promise<number> {
  if (results.length === 0) return 0;
  const r = withStore(redis);
  const pipe = r.pipeline() as unknown as {
    fleetStore: WithStore['fleetStore'];
    exec: () => Promise<[Error | null, unknown][] | null>;
  };
  for (const x of results)
    pipe.fleetStore(x.key, events, JSON.stringify(x.value), ttlS, x.hash, x.value.ok ? '1' : '0', EVENTS_MAX);
  const answers = (await pipe.exec()) ?? [];
  let fresh = 0;
  for (const [e, n] of answers) {
    if (e) throw e;
    fresh += Number(n);
  }
  return fresh;
}

/** Results of many images (null where there is none yet), in batches of 1000 keys per round trip. */
export async function readResults(redis: Redis, keys: readonly string[]): Promise<(StoredResult | null)[]> {
  const out: (StoredResult | null)[] = [];
  for (let i = 0; i < keys.length; i += 1000) {
    const values = await redis.mget(...keys.slice(i, i + 1000));
    for (const v of values) out.push(v === null ? null : (JSON.parse(v) as StoredResult));
  }
  return out;
}
