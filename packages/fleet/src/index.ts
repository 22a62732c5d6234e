export {
  type ConnectOptions,
  type QueueAddress,
  QueueAddressError,
  backoffMs,
  connect,
  parseQueueAddress,
  ready,
} from './connection.js';
export { type ChunkData, type ChunkItem, CHUNK_JOB } from './job.js';
export { BULL_PREFIX, type Keys, jobIdOf, keysOf, modelKeyOf, sha256 } from './keys.js';
export { type ModelRef, type Task, ModelCache, ModelMismatchError, modelBytes } from './model-ref.js';
export { type StoredResult, readResults, storeResults } from './results.js';
export { ShardReader, writeShard } from './shards.js';
export { type RunItem, type RunRecord, listRuns, readRun, runItems } from './run.js';
export { type Enqueued, type RunSpec, enqueueRun, openQueue } from './producer.js';
export {
  type Collected,
  type FollowOptions,
  type RunProgress,
  collectRun,
  followRun,
  stalledChunks,
} from './follow.js';
export { type FleetWorker, type WorkerOptions, startWorker } from './worker.js';
export type { Redis } from 'ioredis';
