import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where `mobilenet train` keeps embeddings: `--cache DIR`, else `$MOBILENET_CACHE/embeddings`, else
 * `$XDG_CACHE_HOME/mobilenet/embeddings` (default `~/.cache/mobilenet/embeddings`).
 */
export function embeddingCacheRoot(env: NodeJS.ProcessEnv, given?: string): string {
  if (given) return given;
  if (env.MOBILENET_CACHE) return join(env.MOBILENET_CACHE, 'embeddings');
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'mobilenet', 'embeddings');
}

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Embeddings keyed by the model's bytes and the image's bytes: ROOT/<model sha256>/<image sha256>[.<view>].f32, each
 * the raw little-endian float32 row. A renamed or moved image keeps its entry; an edited one, or another model,
 * misses. Entries are written to a temporary name and renamed, so a run stopped half way leaves none half written.
 */
export class EmbeddingCache {
  readonly dir: string;
  hits = 0;
  misses = 0;

  constructor(root: string, modelSha: string) {
    this.dir = join(root, modelSha);
  }

  private path(key: string): string {
    return join(this.dir, `${key}.f32`);
  }

  get(key: string, dim?: number): Float32Array | undefined {
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.path(key));
    } catch {
      this.misses++;
      return undefined;
    }
    // A damaged entry (cut short, another width) is a miss: it is embedded again and replaced.
    if (bytes.length === 0 || bytes.length % 4 !== 0 || (dim !== undefined && bytes.length !== dim * 4)) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    const row = new Float32Array(bytes.length / 4);
    new Uint8Array(row.buffer).set(bytes);
    return row;
  }

  put(key: string, row: Float32Array): void {
    mkdirSync(this.dir, { recursive: true });
    const tmp = `${this.path(key)}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, new Uint8Array(row.buffer, row.byteOffset, row.byteLength));
      renameSync(tmp, this.path(key));
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
  }
}
