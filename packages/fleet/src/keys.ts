import { createHash } from 'node:crypto';

/** BullMQ's key prefix for our queues; our own keys sit beside it under `mobilenet:<queue>:`. */
export const BULL_PREFIX = 'mobilenet-bull';

export const sha256 = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

/**
 * Every key this package writes, in one place. `results` is keyed by the run's model key (model hash, task, top-k)
 * and the image's content hash, so the same image under any name, in any run of the same model, has one result.
 */
export const keysOf = (queue: string) => {
  const base = `mobilenet:${queue}`;
  return {
    result: (modelKey: string, imageHash: string) => `${base}:res:${modelKey}:${imageHash}`,
    runs: `${base}:runs`,
    run: (runId: string) => `${base}:run:${runId}`,
    runItems: (runId: string) => `${base}:run:${runId}:items`,
    runChunks: (runId: string) => `${base}:run:${runId}:chunks`,
    events: (runId: string) => `${base}:run:${runId}:events`,
    runFailed: (runId: string) => `${base}:run:${runId}:failed`,
  };
};
export type Keys = ReturnType<typeof keysOf>;

/** What a result means: the model (its bytes' hash), the task and its options. Two runs that agree share results. */
export const modelKeyOf = (modelSha: string, task: string, top: number): string =>
  sha256(`${modelSha}\n${task}\n${task === 'classify' ? top : 0}`).slice(0, 32);

/**
 * A chunk's job ID: the model key and its images' content hashes, so enqueuing the same images again for the same
 * model adds nothing (BullMQ ignores an add whose job ID exists).
 */
export const jobIdOf = (modelKey: string, imageHashes: readonly string[]): string =>
  `${modelKey.slice(0, 16)}-${sha256(imageHashes.join('\n')).slice(0, 32)}`;
