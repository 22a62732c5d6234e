import {
  type LoadedModel,
  type ModelOptions,
  MobileNetError,
  type PretrainedSpec,
  buildPretrained,
  hashPrefixOf,
  parseWeightsName,
  readCheckpoint,
  readTimmConfig,
  timmArchitecture,
  timmSpec,
  TORCHVISION_BASE_URL,
  torchvisionSpec,
} from '@mobilenet/core';

/**
 * Pretrained names in a page: the same names as @mobilenet/runtime-node ('torchvision:mobilenet_v3_large',
 * 'hf-hub:timm/mobilenetv4_conv_small.e2400_r224_in1k'), fetched with the Fetch API into Cache Storage, verified
 * with the same hashes (WebCrypto), and built in the page from core: no .onnx download.
 */
export interface WebHubOptions {
  /** The hub's address (default https://huggingface.co, which serves CORS). */
  readonly hfEndpoint?: string;
  /**
   * Where torchvision's files are (default https://download.pytorch.org/models). Whether that host answers pages
   * of other origins (CORS) is not known here: where it does not, name a mirror that does.
   */
  readonly torchvisionUrl?: string;
  /** A Hugging Face token, for gated or private repositories. */
  readonly token?: string;
  /** Cache Storage to keep files in (default globalThis.caches; none in Node), and its cache's name. */
  readonly cacheStorage?: Pick<CacheStorage, 'open'>;
  readonly cacheName?: string;
  /** Cache Storage only, no network. */
  readonly offline?: boolean;
  /** Largest file fetched (default 2 GiB). */
  readonly maxBytes?: number;
  readonly onProgress?: (p: {
    readonly name: string;
    readonly url: string;
    readonly received: number;
    readonly total?: number;
  }) => void;
}

export type WebPretrainedModel = LoadedModel & {
  readonly weights: {
    readonly name: string;
    readonly url: string;
    readonly sha256: string;
    readonly fromCache: boolean;
  };
};

const hex = (b: ArrayBuffer) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, '0')).join('');
const sha256 = async (b: Uint8Array) => hex(await crypto.subtle.digest('SHA-256', b as Uint8Array<ArrayBuffer>));
async function gitSha1(b: Uint8Array): Promise<string> {
  const head = new TextEncoder().encode(`blob ${b.length}\0`);
  const all = new Uint8Array(head.length + b.length);
  all.set(head);
  all.set(b, head.length);
  return hex(await crypto.subtle.digest('SHA-1', all));
}

const fail = (code: string, name: string, expected: string, received: string): never => {
  throw new MobileNetError(code, `weights '${name}'`, expected, received);
};

interface Fetched {
  readonly bytes: Uint8Array;
  readonly fromCache: boolean;
}

/** Reads a response body with progress and the size cap. */
async function body(res: Response, name: string, url: string, o: WebHubOptions): Promise<Uint8Array> {
  const max = o.maxBytes ?? 2 ** 31;
  const length = Number(res.headers.get('content-length') ?? Number.NaN);
  const total = Number.isFinite(length) ? length : undefined;
  if (total !== undefined && total > max)
    fail('too-large', name, `a file up to ${max} bytes`, `${total} bytes at ${url}; nothing was downloaded`);
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const parts: Uint8Array[] = [];
  let received = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.length;
    if (received > max) {
      await reader.cancel();
      fail('too-large', name, `a file up to ${max} bytes`, `more from ${url}`);
    }
    parts.push(value);
    o.onProgress?.({ name, url, received, ...(total !== undefined && { total }) });
  }
  const out = new Uint8Array(received);
  let at = 0;
  for (const p of parts) out.set(p, at), (at += p.length);
  return out;
}

/**
 * A file from Cache Storage (checked again: a damaged entry is fetched anew) or from the network, verified, then
 * cached. A network failure in a page is also what a host without CORS looks like: the message says both.
 */
async function verified(
  name: string,
  url: string,
  check: (b: Uint8Array) => Promise<string | undefined>,
  o: WebHubOptions,
  headers: Record<string, string> = {},
): Promise<Fetched> {
  const storage = o.cacheStorage ?? (globalThis as { caches?: CacheStorage }).caches;
  const cache = storage ? await storage.open(o.cacheName ?? 'mobilenet-weights') : undefined;
  const hit = await cache?.match(url);
  if (hit) {
    const bytes = new Uint8Array(await hit.arrayBuffer());
    if (!(await check(bytes))) return { bytes, fromCache: true };
    await cache!.delete(url);
  }
  if (o.offline) fail('offline', name, `${url} in Cache Storage (offline)`, 'nothing cached');
  let res: Response;
  try {
    res = await fetch(url, { headers });
  } catch (e) {
    return fail(
      'network',
      name,
      `an answer from ${new URL(url).host}`,
      `a network failure (${(e as Error).message}): no network, or the host does not allow this page (CORS)${url.startsWith(TORCHVISION_BASE_URL) ? '; download.pytorch.org may not: pass torchvisionUrl, a mirror that does' : ''}`,
    );
  }
  if (res.status === 401 || res.status === 403)
    fail('unauthorized', name, 'access (a token for a gated or private repository)', `HTTP ${res.status} at ${url}`);
  if (!res.ok) fail(res.status === 404 ? 'not-found' : 'http', name, `the file at ${url}`, `HTTP ${res.status}`);
  const bytes = await body(res, name, url, o);
  const wrong = await check(bytes);
  if (wrong) fail('hash-mismatch', name, `the bytes of ${url}: ${wrong}`, 'others; nothing was cached');
  await cache?.put(
    url,
    new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-type': 'application/octet-stream' } }),
  );
  return { bytes, fromCache: false };
}

async function torchvisionFile(name: string, url: string, file: string, o: WebHubOptions) {
  const prefix = hashPrefixOf(file);
  const f = await verified(
    name,
    url,
    async (b) => {
      const sha = await sha256(b);
      return prefix && !sha.startsWith(prefix) ? `sha256 ${prefix}... (the file name's), received ${sha}` : undefined;
    },
    o,
  );
  return { ...f, sha256: await sha256(f.bytes) };
}

interface TreeEntry {
  readonly path: string;
  readonly oid: string;
  readonly size: number;
  readonly lfs?: { readonly oid: string; readonly size: number };
}

/** The repository's file list (the hub's tree API): each file's git sha1, and the sha256 of LFS files. */
async function hubTree(
  name: string,
  endpoint: string,
  repo: string,
  revision: string,
  o: WebHubOptions,
  headers: Record<string, string>,
) {
  const url = `${endpoint}/api/models/${repo}/tree/${encodeURIComponent(revision)}`;
  // The list itself has no hash to check; it is what the hashes come from, and kept for offline use.
  const f = await verified(name, url, async () => undefined, o, headers);
  let entries: unknown;
  try {
    entries = JSON.parse(new TextDecoder().decode(f.bytes));
  } catch {
    return fail('bad-answer', name, `a JSON file list from ${url}`, 'text that does not parse');
  }
  if (!Array.isArray(entries)) return fail('bad-answer', name, `a JSON file list from ${url}`, typeof entries);
  return new Map((entries as TreeEntry[]).filter((e) => typeof e?.path === 'string').map((e) => [e.path, e]));
}

async function hubFile(
  name: string,
  base: string,
  tree: Map<string, TreeEntry>,
  file: string,
  o: WebHubOptions,
  headers: Record<string, string>,
) {
  const e = tree.get(file);
  if (!e) return undefined;
  const sha = e.lfs?.oid;
  const url = `${base}/${file}`;
  if (sha !== undefined && !/^[0-9a-f]{64}$/.test(sha))
    fail('bad-answer', name, 'an LFS sha256 in the file list', String(sha).slice(0, 80));
  if (sha === undefined && !/^[0-9a-f]{40}$/.test(e.oid))
    fail('bad-answer', name, 'a git sha1 in the file list', String(e.oid).slice(0, 80));
  const f = await verified(
    name,
    url,
    async (b) => {
      if (sha !== undefined) {
        const got = await sha256(b);
        return got === sha ? undefined : `sha256 ${sha}, received ${got}`;
      }
      const got = await gitSha1(b);
      return got === e.oid ? undefined : `git blob sha1 ${e.oid}, received ${got}`;
    },
    o,
    headers,
  );
  return { ...f, url, sha256: sha ?? (await sha256(f.bytes)) };
}

/**
 * The model for a pretrained name, built in the page: its arch, convention, classes and preprocessing from the
 * name (torchvision's table, the repository's config.json); `options` adds the rest (embedding, batch, ...).
 */
export async function loadPretrained(
  name: string,
  options: Partial<ModelOptions> = {},
  o: WebHubOptions = {},
): Promise<WebPretrainedModel> {
  const p = parseWeightsName(name);
  let spec: PretrainedSpec;
  let got: Fetched & { sha256: string; url: string };
  if (p.kind === 'torchvision') {
    const url = `${(o.torchvisionUrl ?? TORCHVISION_BASE_URL).replace(/\/+$/, '')}/${p.weights.file}`;
    got = { ...(await torchvisionFile(p.name, url, p.weights.file, o)), url };
    spec = torchvisionSpec(p.weights, p.name, url, got.sha256);
  } else if (p.kind === 'hf-hub') {
    const endpoint = (o.hfEndpoint ?? 'https://huggingface.co').replace(/\/+$/, '');
    const headers: Record<string, string> = o.token ? { authorization: `Bearer ${o.token}` } : {};
    const tree = await hubTree(p.name, endpoint, p.repo, p.revision, o, headers);
    const base = `${endpoint}/${p.repo}/resolve/${encodeURIComponent(p.revision)}`;
    const config = await hubFile(p.name, base, tree, 'config.json', o, headers);
    if (!config) return fail('not-found', p.name, `config.json in ${p.repo}`, 'no such file');
    const where = `${p.name} config.json`;
    const cfg = readTimmConfig(new TextDecoder().decode(config.bytes), where);
    timmArchitecture(cfg.architecture, `${where}: architecture`);
    const weights =
      (await hubFile(p.name, base, tree, 'model.safetensors', o, headers)) ??
      (await hubFile(p.name, base, tree, 'pytorch_model.bin', o, headers));
    if (!weights) return fail('not-found', p.name, `model.safetensors or pytorch_model.bin in ${p.repo}`, 'neither');
    got = weights;
    spec = timmSpec(cfg, p.name, weights.url, weights.sha256, where);
  } else {
    return fail(
      'weights-name',
      name,
      "a pretrained name: 'torchvision:...' or 'hf-hub:...'",
      p.kind === 'url' ? 'a URL (an .onnx URL goes to createSession)' : 'a path',
    );
  }
  const { arch, ...rest } = options;
  if (arch !== undefined && arch !== spec.options.arch)
    fail('option', p.name, `weights for ${arch}`, `weights for ${spec.options.arch}`);
  const model = buildPretrained(spec, readCheckpoint(got.bytes, got.url), rest);
  return { ...model, weights: { name: spec.record.name, url: got.url, sha256: got.sha256, fromCache: got.fromCache } };
}

/** Whether a string is a pretrained name (a URL stays an .onnx URL in the browser). */
export const isPretrainedName = (s: string): boolean => /^(torchvision|hf-hub):/.test(s);
