import type { NodeSession } from '@mobilenet/runtime-node';
import { DEFAULT_MAX_PIXELS, FileError, decodeImage, imageByteCap, readRegularSync } from '@mobilenet/runtime-node';
import { augmentView } from './augment.js';
import { type ImageFile, nameOf } from './collection.js';
import type { EmbeddingCache } from './embed-cache.js';
import { quotePath } from './errors.js';
import type { ImageClass } from './image-folder.js';
import { streamResults } from './image-run.js';
import type { Io } from './io.js';
import { sha256 } from './embed-cache.js';

/** One row to embed: an image file (view 0) or one of its augmented views (1..N). */
export interface Job {
  readonly file: ImageFile;
  readonly label: number;
  /** The image's content hash: its cache key, and what seeds its augmented views. */
  readonly key: string;
  readonly view: number;
  readonly bytes: Uint8Array;
}

const cacheKey = (j: Job, seed: number) => (j.view === 0 ? j.key : `${j.key}.aug-s${seed}-v${j.view}`);

/** The images' bytes, read once (their hash is the cache key and what runs); a file that cannot be read is named. */
export function readJobs(classes: readonly ImageClass[], io: Io): Job[] {
  const jobs: Job[] = [];
  classes.forEach((c, label) => {
    for (const file of c.files) {
      let bytes: Uint8Array;
      try {
        bytes = readRegularSync(typeof file === 'string' ? file : file.path, {
          what: 'an image file',
          maxBytes: imageByteCap(DEFAULT_MAX_PIXELS),
        });
      } catch (e) {
        io.err(
          `mobilenet train: ${quotePath(nameOf(file))}: skipped, ${e instanceof FileError ? e.detail : String(e)}\n`,
        );
        continue;
      }
      jobs.push({ file, label, key: sha256(bytes), view: 0, bytes });
    }
  });
  return jobs;
}

/** Views 1..n of each job (augmented copies, embedded like images). */
export const viewsOf = (jobs: readonly Job[], n: number): Job[] =>
  jobs.flatMap((j) => Array.from({ length: n }, (_, v) => ({ ...j, view: v + 1 })));

/**
 * The embedding of every job (an image or an augmented view): from the cache when it has it, else through the session's
 * pipeline (embedAll), with a progress bar, each new row cached as it comes. An image that fails to decode is named
 * and left out (with its views). SIGINT/SIGTERM stop after the row in hand (`stop`).
 */
export async function embedJobs(
  session: NodeSession,
  all: readonly Job[],
  o: { cache: EmbeddingCache | undefined; seed: number | undefined; io: Io; dim: number; release: boolean },
): Promise<{ jobs: Job[]; rows: Map<Job, Float32Array>; stop?: NodeJS.Signals }> {
  const seed = o.seed ?? 0;
  const rows = new Map<Job, Float32Array>();
  const todo: Job[] = [];
  for (const j of all) {
    const row = o.cache?.get(cacheKey(j, seed), o.dim);
    if (row) rows.set(j, row);
    else todo.push(j);
  }
  const failed = new Set<string>();
  async function* inputs() {
    for (const j of todo) {
      const name = nameOf(j.file);
      if (j.view === 0) yield { name, bytes: j.bytes };
      else {
        let img: Awaited<ReturnType<typeof decodeImage>>;
        try {
          img = await decodeImage(j.bytes, name);
        } catch {
          // the original's decode names the error; this view is left out with it
          img = { data: new Uint8Array(3), width: 1, height: 1, channels: 3 };
        }
        yield { ...augmentView(img, seed, j.key, j.view), name: `${name} (view ${j.view})` };
      }
    }
  }
  let i = 0;
  const end = todo.length
    ? await streamResults(() => session.embedAll(inputs()), {
        io: o.io,
        command: 'train: embedding',
        total: todo.length,
        take: (r) => {
          const j = todo[i++]!;
          if (!r.ok) return void failed.add(j.key);
          // a copy: the row is a view of the batch's output, which the pipeline releases after the batch
          rows.set(j, r.embedding.slice());
          o.cache?.put(cacheKey(j, seed), r.embedding);
        },
        close: async () => {
          if (o.release) await session.release();
        },
      })
    : (o.release && (await session.release()), { done: 0, failed: 0 });
  if (end.stop) return { jobs: [], rows, stop: end.stop };
  const jobs = all.filter((j) => rows.has(j) && !failed.has(j.key));
  return { jobs, rows };
}
