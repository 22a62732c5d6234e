import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { HubError } from './errors.js';
import { type HttpSettings, request, socketWhy } from './http.js';
import { withLock } from './lock.js';

/** What the bytes must be. `sha256Prefix` is torchvision's file-name check; `gitSha1` a hub file that is not in LFS. */
export interface Expected {
  readonly sha256?: string;
  readonly sha256Prefix?: string;
  readonly gitSha1?: string;
  readonly size?: number;
}

export interface Progress {
  /** The weights' name and the file being fetched. */
  readonly name: string;
  readonly file: string;
  readonly received: number;
  /** Bytes in all, when the server says. */
  readonly total?: number;
  /** Bytes that were already there (a resumed download). */
  readonly resumedFrom: number;
  readonly done: boolean;
}

export interface DownloadJob {
  readonly url: URL;
  /** The cache entry; the partial file is beside it. */
  readonly target: string;
  readonly partial: string;
  readonly lock: string;
  readonly expected: Expected;
  readonly headers?: Record<string, string>;
  /** Names the weights in messages and progress. */
  readonly name: string;
  readonly maxBytes: number;
  readonly lockWaitMs: number;
  readonly onProgress?: (p: Progress) => void;
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

/** Hashes a file's existing bytes (the part of a download that is resumed). */
async function hashFile(path: string, hashes: Hash[]): Promise<void> {
  for await (const chunk of createReadStream(path)) for (const h of hashes) h.update(chunk as Buffer);
}

function newHashes(e: Expected): { sha256: Hash; sha1?: Hash } {
  return { sha256: createHash('sha256'), ...(e.gitSha1 && { sha1: createHash('sha1') }) };
}

/** Checks the complete bytes; the message names the URL, both digests and the cache path. */
function verify(job: DownloadJob, size: number, sha256: string, gitSha1: string | undefined): void {
  const e = job.expected;
  const where = `${job.name}: ${job.url.href} -> ${job.target}`;
  if (e.size !== undefined && size !== e.size)
    throw new HubError('truncated', `${where}: expected ${e.size} bytes, received ${size}; nothing was cached`);
  const bad = (what: string, want: string, got: string) =>
    new HubError('hash-mismatch', `${where}: ${what} mismatch: expected ${want}, received ${got}; nothing was cached`);
  if (e.sha256 && sha256 !== e.sha256) throw bad('sha256', e.sha256, sha256);
  if (e.sha256Prefix && !sha256.startsWith(e.sha256Prefix))
    throw bad(`sha256 (the file name's prefix ${e.sha256Prefix})`, `${e.sha256Prefix}...`, sha256);
  if (e.gitSha1 && gitSha1 !== e.gitSha1) throw bad('git blob sha1 (ETag)', e.gitSha1, gitSha1 ?? 'none');
}

/** One pass over the wire: resumes from `from` bytes with a Range request; returns the bytes now in the partial file. */
async function transfer(
  job: DownloadJob,
  from: number,
  http: HttpSettings,
): Promise<{ complete: boolean; size: number; why?: string; timedOut?: boolean }> {
  const range: Record<string, string> = from > 0 ? { range: `bytes=${from}-` } : {};
  const answer = await request(job.url, { follow: 'all', what: job.name, headers: { ...job.headers, ...range } }, http);
  const { status, headers, body } = answer;
  if (status === 416 && from > 0) {
    // The partial file is as long as the file, or longer: start again from nothing.
    body.resume();
    rmSync(job.partial, { force: true });
    return { complete: false, size: 0 };
  }
  if (status !== 200 && status !== 206) {
    body.resume();
    throw statusError(job, status, answer.url);
  }
  let start = 0;
  if (status === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(headers['content-range'] ?? ''));
    start = m ? Number(m[1]) : -1;
    if (start !== from) {
      body.destroy();
      throw new HubError(
        'bad-answer',
        `${job.name}: ${answer.url.href} answered range ${headers['content-range']} to bytes=${from}-`,
      );
    }
  }
  const length = headers['content-length'] !== undefined ? Number(headers['content-length']) : undefined;
  const total = length !== undefined && Number.isFinite(length) ? start + length : job.expected.size;
  if (total !== undefined && total > job.maxBytes) {
    body.destroy();
    throw new HubError(
      'too-large',
      `${job.name}: ${answer.url.href} is ${mib(total)}, over the cap of ${mib(job.maxBytes)} (MOBILENET_MAX_DOWNLOAD raises it); nothing was downloaded`,
    );
  }
  const out = createWriteStream(job.partial, { flags: status === 206 ? 'a' : 'w', mode: 0o644 });
  let received = start;
  let lastReport = 0;
  let why: string | undefined;
  let timedOut = false;
  const report = (done: boolean) =>
    job.onProgress?.({
      name: job.name,
      file: job.target,
      received,
      ...(total !== undefined && { total }),
      resumedFrom: start,
      done,
    });
  try {
    await new Promise<void>((resolve, reject) => {
      body.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > job.maxBytes || (total !== undefined && received > total)) {
          body.destroy(
            new HubError(
              'too-large',
              `${job.name}: ${answer.url.href} sent more than ${total !== undefined ? `its ${total} bytes` : mib(job.maxBytes)}`,
            ),
          );
          return;
        }
        if (!out.write(chunk)) {
          body.pause();
          out.once('drain', () => body.resume());
        }
        const now = performance.now();
        if (now - lastReport > 100) (lastReport = now), report(false);
      });
      body.once('end', resolve);
      body.once('error', reject);
      // After 'end' this does nothing; without it, the connection went away mid-body ('error' comes first when there is one).
      body.once('close', () => reject(Object.assign(new Error('connection closed mid-body'), { code: 'ECONNRESET' })));
      out.once('error', (e) =>
        reject(new HubError('cache', `${job.name}: cannot write ${job.partial}: ${socketWhy(e)}`)),
      );
    });
  } catch (e) {
    if (e instanceof HubError) throw e;
    // A dropped connection keeps what arrived: the next pass resumes from there.
    why = socketWhy(e);
    timedOut = (e as NodeJS.ErrnoException).code === 'ETIMEDOUT';
  } finally {
    await new Promise<void>((r) => out.end(r));
  }
  const size = existsSync(job.partial) ? statSync(job.partial).size : 0;
  report(false);
  const complete = body.complete && (total === undefined || size === total);
  return {
    complete,
    size,
    ...(!complete && { why: why ?? `${size - start} of ${total ?? '?'} bytes arrived`, timedOut }),
  };
}

/** An HTTP status as the user's words: 404 names the URL, 401/403 ask for a token. */
export function statusError(job: { name: string }, status: number, url: URL): HubError {
  if (status === 404) return new HubError('not-found', `${job.name}: not found (404) at ${url.href}`);
  if (status === 401 || status === 403)
    return new HubError(
      'unauthorized',
      `${job.name}: ${url.href} answered ${status}: this repository needs a token (gated or private): set HF_TOKEN, and accept its terms on the hub if it is gated`,
    );
  return new HubError('http', `${job.name}: ${url.href} answered HTTP ${status}`);
}

/**
 * Downloads to a partial file beside the cache entry, verifies the bytes, then renames: the entry is complete and
 * verified, or absent. Holds a lock file meanwhile (a second process waits, then finds the entry). A dropped
 * connection resumes with a Range request (bounded by `http.retries`); a partial file left by a crash is resumed
 * too, its bytes hashed again. A mismatch deletes the partial file and fails.
 */
export async function download(job: DownloadJob, http: HttpSettings): Promise<{ sha256: string; size: number }> {
  try {
    mkdirSync(dirname(job.target), { recursive: true });
  } catch (e) {
    throw new HubError('cache', `${job.name}: cannot create the cache folder ${dirname(job.target)}: ${socketWhy(e)}`);
  }
  return withLock(job.lock, job.lockWaitMs, job.name, async () => {
    if (existsSync(job.target)) {
      // Another process finished it while we waited.
      const h = newHashes(job.expected);
      await hashFile(job.target, [h.sha256]);
      return { sha256: h.sha256.digest('hex'), size: statSync(job.target).size };
    }
    let size = existsSync(job.partial) ? statSync(job.partial).size : 0;
    if (job.expected.size !== undefined && size > job.expected.size) rmSync(job.partial, { force: true }), (size = 0);
    let complete = false;
    let why: string | undefined;
    let timedOut: boolean | undefined;
    for (let pass = 0; pass <= http.retries && !complete; pass++) {
      if (pass > 0) await new Promise((r) => setTimeout(r, http.backoffMs * 2 ** (pass - 1)));
      try {
        ({ complete, size, why, timedOut } = await transfer(job, size, http));
      } catch (e) {
        // Too large or a bad answer: what was written is not worth resuming.
        if (e instanceof HubError && (e.code === 'too-large' || e.code === 'bad-answer'))
          rmSync(job.partial, { force: true });
        throw e;
      }
    }
    if (!complete) {
      throw new HubError(
        timedOut ? 'timeout' : 'truncated',
        `${job.name}: ${job.url.href} ended early ${http.retries + 1} time${http.retries ? 's' : ''} (last: ${why}); ${size} bytes kept in ${job.partial}, resumed next time`,
      );
    }
    const h = newHashes(job.expected);
    if (h.sha1) h.sha1.update(`blob ${size}\0`);
    await hashFile(job.partial, [h.sha256, ...(h.sha1 ? [h.sha1] : [])]);
    const sha256 = h.sha256.digest('hex');
    try {
      verify(job, size, sha256, h.sha1?.digest('hex'));
    } catch (e) {
      rmSync(job.partial, { force: true });
      throw e;
    }
    try {
      renameSync(job.partial, job.target);
    } catch (e) {
      throw new HubError('cache', `${job.name}: cannot move ${job.partial} to ${job.target}: ${socketWhy(e)}`);
    }
    job.onProgress?.({ name: job.name, file: job.target, received: size, total: size, resumedFrom: 0, done: true });
    return { sha256, size };
  });
}
