// Test helpers other packages' tests use (dev-only subpath @mobilenet/fleet/testing; not published).
export { type TestRedis, REDIS_SERVER, freePort, startRedis } from './redis.js';
export { rng, writeJpegs } from './images.js';
