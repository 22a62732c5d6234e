import {
  existsSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { download } from './download.js';
import { HubError } from './errors.js';
import { request, socketWhy } from './http.js';
import type { HubSettings } from './settings.js';
import { statusError } from './download.js';

/**
 * The huggingface_hub cache, exactly as huggingface_hub 0.26 lays it out (`file_download.py`), so that Python and
 * we share one copy of each file:
 *   $HF_HUB_CACHE/models--OWNER--NAME/blobs/<etag>                      the bytes (etag: sha256 for LFS files, git sha1 otherwise)
 *   $HF_HUB_CACHE/models--OWNER--NAME/snapshots/<commit>/<file>         a relative symlink ../../blobs/<etag>
 *   $HF_HUB_CACHE/models--OWNER--NAME/refs/<revision>                   the commit, for a branch or tag
 *   $HF_HUB_CACHE/.locks/models--OWNER--NAME/<etag>.lock                huggingface_hub's lock (flock); ours is <etag>.mobilenet.lock
 * A partial download is blobs/<etag>.incomplete, which either side resumes.
 */

const COMMIT = /^[0-9a-f]{40}$/;
const ETAG = /^([0-9a-f]{40}|[0-9a-f]{64})$/;

export const repoFolder = (cache: string, repo: string) => join(cache, `models--${repo.replace('/', '--')}`);

export interface HubFile {
  /** The snapshot path (a symlink into blobs). */
  readonly path: string;
  readonly commit: string;
  /** sha256 for LFS files, the git blob sha1 for others (the blob's name). */
  readonly etag: string;
  readonly url: string;
}

/** The file in the cache for a revision (a branch or tag through refs/, or a commit), or undefined. */
export function cachedHubFile(
  cache: string,
  repo: string,
  revision: string,
  file: string,
  url: string,
): HubFile | undefined {
  const folder = repoFolder(cache, repo);
  let commit = COMMIT.test(revision) ? revision : undefined;
  if (!commit) {
    try {
      const ref = readFileSync(join(folder, 'refs', revision), 'utf8').trim();
      if (COMMIT.test(ref)) commit = ref;
    } catch {
      return undefined;
    }
  }
  if (!commit) return undefined;
  const path = join(folder, 'snapshots', commit, file);
  if (!existsSync(path)) return undefined;
  let etag = '';
  try {
    etag = readlinkSync(path).split('/').pop() ?? '';
  } catch {
    // A copy instead of a link (Windows without symlinks): no etag to check against.
  }
  return { path, commit, etag, url };
}

/** Headers of the hub's answer that we use, checked: they become file names, so no path may hide in them. */
function metadata(headers: Record<string, string | string[] | undefined>, what: string, url: URL) {
  const h = (k: string) => {
    const v = headers[k.toLowerCase()];
    return Array.isArray(v) ? v[0] : v;
  };
  // huggingface_hub's _normalize_etag: strip W/ and the quotes.
  const etag = (h('X-Linked-Etag') ?? h('ETag'))?.replace(/^W\//, '').replace(/^"|"$/g, '');
  const commit = h('X-Repo-Commit');
  const size = Number(h('X-Linked-Size') ?? h('Content-Length'));
  if (!etag || !ETAG.test(etag))
    throw new HubError(
      'bad-answer',
      `${what}: ${url.href} gave no usable ETag (expected a sha256 or git sha1 in hex, received '${String(etag).slice(0, 80)}')`,
    );
  if (!commit || !COMMIT.test(commit))
    throw new HubError(
      'bad-answer',
      `${what}: ${url.href} gave no usable X-Repo-Commit (expected a 40-hex commit, received '${String(commit).slice(0, 80)}')`,
    );
  return { etag, commit, size: Number.isSafeInteger(size) && size >= 0 ? size : undefined };
}

/** Writes a file by temp + rename (refs/main is read by the other side at any moment). */
function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** snapshots/<commit>/<file> -> ../../blobs/<etag>, and refs/<revision> -> commit, as huggingface_hub writes them. */
function link(folder: string, commit: string, file: string, etag: string, revision: string): string {
  const pointer = join(folder, 'snapshots', commit, file);
  mkdirSync(dirname(pointer), { recursive: true });
  if (!existsSync(pointer)) {
    const tmp = `${pointer}.${process.pid}.tmp`;
    rmSync(tmp, { force: true });
    symlinkSync(relative(dirname(pointer), join(folder, 'blobs', etag)), tmp);
    renameSync(tmp, pointer);
  }
  if (revision !== commit) {
    const ref = join(folder, 'refs', revision);
    mkdirSync(dirname(ref), { recursive: true });
    if (!existsSync(ref) || readFileSync(ref, 'utf8') !== commit) writeAtomic(ref, commit);
  }
  return pointer;
}

/**
 * A file of a hub repository, online: HEAD on `{endpoint}/{repo}/resolve/{revision}/{file}` (huggingface_hub's
 * `get_hf_file_metadata`: relative redirects followed, the CDN's read from Location), then the blob downloaded and
 * verified against the ETag (sha256 for LFS files, git's blob sha1 for small ones), then the snapshot link and ref.
 */
export async function fetchHubFile(
  s: HubSettings,
  repo: string,
  revision: string,
  file: string,
  what: string,
): Promise<HubFile & { downloaded: boolean; sha256?: string }> {
  const url = new URL(
    `${s.hfEndpoint.href.replace(/\/$/, '')}/${repo}/resolve/${encodeURIComponent(revision)}/${file}`,
  );
  const auth: Record<string, string> = s.token ? { authorization: `Bearer ${s.token}` } : {};
  const head = await request(url, { method: 'HEAD', follow: 'relative', what, headers: auth }, s.http);
  head.body.resume();
  if (head.status >= 400) throw statusError({ name: what }, head.status, head.url);
  const meta = metadata(head.headers, what, head.url);
  const cdn = head.status >= 300 && head.headers.location ? new URL(head.headers.location, head.url) : head.url;
  const folder = repoFolder(s.hfCache, repo);
  const blob = join(folder, 'blobs', meta.etag);
  const lfs = meta.etag.length === 64;
  let downloaded = false;
  if (meta.size !== undefined && meta.size > s.maxBytes)
    throw new HubError(
      'too-large',
      `${what}: ${head.url.href} is ${(meta.size / 2 ** 20).toFixed(1)} MiB, over the cap of ${(s.maxBytes / 2 ** 20).toFixed(1)} MiB (MOBILENET_MAX_DOWNLOAD raises it); nothing was downloaded`,
    );
  if (!existsSync(blob)) {
    try {
      mkdirSync(join(s.hfCache, '.locks', `models--${repo.replace('/', '--')}`), { recursive: true });
    } catch (e) {
      throw new HubError(
        'cache',
        `${what}: cannot write the Hugging Face cache ${s.hfCache} (${socketWhy(e)}); set HF_HUB_CACHE or HF_HOME to a writable folder`,
      );
    }
    await download(
      {
        url: cdn,
        target: blob,
        partial: `${blob}.incomplete`,
        lock: join(s.hfCache, '.locks', `models--${repo.replace('/', '--')}`, `${meta.etag}.mobilenet.lock`),
        expected: {
          ...(lfs ? { sha256: meta.etag } : { gitSha1: meta.etag }),
          ...(meta.size !== undefined && { size: meta.size }),
        },
        // The token goes to the hub's own host only: the CDN's URL is signed (huggingface_hub sends it there too; we do not).
        headers: cdn.host === url.host ? auth : {},
        name: what,
        maxBytes: s.maxBytes,
        lockWaitMs: s.lockWaitMs,
        ...(s.onProgress && { onProgress: s.onProgress }),
      },
      s.http,
    );
    downloaded = true;
  } else if (meta.size !== undefined && statSync(blob).size !== meta.size) {
    throw new HubError(
      'cache',
      `${what}: the cached ${blob} has ${statSync(blob).size} bytes, the hub says ${meta.size}: remove it to fetch it again`,
    );
  }
  const path = link(folder, meta.commit, file, meta.etag, revision);
  return { path, commit: meta.commit, etag: meta.etag, url: url.href, downloaded, ...(lfs && { sha256: meta.etag }) };
}
