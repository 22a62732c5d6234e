import type { ModelRef } from './model-ref.js';

/** One image of a chunk: the name results carry, the path every worker reads, its content hash. */
export interface ChunkItem {
  readonly name: string;
  readonly path: string;
  readonly hash: string;
}

/** What a chunk's job holds. Results are written under `modelKey`; events go to the run's stream. */
export interface ChunkData {
  readonly runId: string;
  readonly model: ModelRef;
  readonly modelKey: string;
  readonly top: number;
  readonly items: readonly ChunkItem[];
  /** Crashes and errors allowed, after which the chunk fails and its images are named as failed. */
  readonly maxAttempts: number;
  /** Seconds a result is kept in Redis. */
  readonly ttlS: number;
  /** Embed: the folder on shared storage where workers write their shards. */
  readonly shardDir?: string;
}

/** The queue's job name for a chunk. */
export const CHUNK_JOB = 'chunk';
