import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import {
  type LoadedModel,
  type ModelOptions,
  type PretrainedSpec,
  TIMM_TAGS,
  TORCHVISION_DEFAULTS,
  WEIGHTS_METADATA_KEY,
  type WeightsName,
  buildPretrained,
  buildWithWeights,
  hashPrefixOf,
  parseWeightsName,
  readCheckpoint,
  readTimmConfig,
  timmArchitecture,
  timmSpec,
  torchvisionSpec,
  torchvisionTable,
} from '@mobilenet/core';
import { HubError } from './errors.js';
import { type HubFile, cachedHubFile, fetchHubFile } from './hf.js';
import { type HubOptions, type HubSettings, hubSettings } from './settings.js';
import { fetchTorchFile, torchCachePath } from './torch.js';

/** Named weights, in the cache and verified. */
export interface ResolvedWeights {
  /** The name as resolved, e.g. 'torchvision:mobilenet_v3_large.IMAGENET1K_V2'. */
  readonly name: string;
  readonly kind: 'torchvision' | 'hf-hub' | 'url';
  /** The checkpoint in the cache. */
  readonly path: string;
  readonly bytes: Uint8Array;
  readonly url: string;
  readonly sha256: string;
  /** Whether this call downloaded anything. */
  readonly downloaded: boolean;
  /** How to build the model (torchvision and hf-hub names); a URL needs the caller's arch. */
  readonly spec?: PretrainedSpec;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const gitSha1 = (b: Uint8Array) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

const OFFLINE_SWITCHES = '--offline, HF_HUB_OFFLINE=1 or MOBILENET_OFFLINE=1';
const offlineError = (name: string, missing: string) =>
  new HubError(
    'offline',
    `${name}: ${missing} is not in the cache, and offline mode is on (${OFFLINE_SWITCHES}); fetch it where there is a network with: mobilenet weights fetch ${name}`,
  );

/** Adds where the file would go and what to do to an error of the network or the cache. */
function explain(e: unknown, cachePath: string, env: string): never {
  if (!(e instanceof HubError)) throw e;
  if (e.code === 'no-network')
    throw new HubError(
      'no-network',
      `${e.message}; not in the cache (${cachePath}): no network? (fetch it elsewhere with mobilenet weights fetch, or copy the cache)`,
    );
  if (e.code === 'cache' || e.code === 'lock')
    throw new HubError(e.code, `${e.message}${e.code === 'cache' ? `; set ${env} to a writable folder` : ''}`);
  throw e;
}

/** Reads a cached file and checks it against what its name says; undefined when it fails (a damaged entry). */
function readVerified(path: string, check: (b: Uint8Array) => boolean): Uint8Array | undefined {
  const bytes = readFileSync(path);
  return check(bytes) ? bytes : undefined;
}

async function torchFile(s: HubSettings, name: string, file: string, url: URL) {
  const path = torchCachePath(s, file);
  const prefix = hashPrefixOf(file);
  const ok = (b: Uint8Array) => !prefix || sha256(b).startsWith(prefix);
  if (existsSync(path)) {
    const bytes = readVerified(path, ok);
    if (bytes) return { path, bytes, downloaded: false };
    if (s.offline)
      throw new HubError(
        'hash-mismatch',
        `${name}: the cached ${path} does not match the sha256 prefix ${prefix} in its name (damaged by an earlier crash?), and offline mode is on: remove it and fetch again with a network`,
      );
    rmSync(path, { force: true });
  }
  if (s.offline) throw offlineError(name, path);
  try {
    await fetchTorchFile(s, url, file, name);
  } catch (e) {
    explain(e, path, 'TORCH_HOME');
  }
  return { path, bytes: readFileSync(path), downloaded: true };
}

async function torchvision(s: HubSettings, p: Extract<WeightsName, { kind: 'torchvision' }>): Promise<ResolvedWeights> {
  const url = new URL(`${s.torchvisionUrl.href.replace(/\/$/, '')}/${p.weights.file}`);
  const f = await torchFile(s, p.name, p.weights.file, url);
  const sha = sha256(f.bytes);
  return {
    name: p.name,
    kind: 'torchvision',
    ...f,
    url: url.href,
    sha256: sha,
    spec: torchvisionSpec(p.weights, p.name, url.href, sha),
  };
}

/** A hub file from the cache (checked against its blob name), or fetched; `undefined` only for `optional` 404s. */
async function hubFile(s: HubSettings, p: Extract<WeightsName, { kind: 'hf-hub' }>, file: string, optional = false) {
  const url = `${s.hfEndpoint.href.replace(/\/$/, '')}/${p.repo}/resolve/${p.revision}/${file}`;
  const cached = cachedHubFile(s.hfCache, p.repo, p.revision, file, url);
  const check = (etag: string) => (b: Uint8Array) =>
    etag.length === 64 ? sha256(b) === etag : etag.length === 40 ? gitSha1(b) === etag : true;
  if (cached) {
    const bytes = readVerified(cached.path, check(cached.etag));
    if (bytes) return { file: cached, bytes, downloaded: false };
    if (s.offline)
      throw new HubError(
        'hash-mismatch',
        `${p.name}: the cached ${cached.path} does not match its blob name ${cached.etag} (damaged?), and offline mode is on: fetch it again with a network`,
      );
    rmSync(cached.path, { force: true });
  }
  if (s.offline) throw offlineError(p.name, `${file} (${cachedPathHint(s, p, file)})`);
  let got: HubFile & { downloaded: boolean };
  try {
    got = await fetchHubFile(s, p.repo, p.revision, file, `${p.name} ${file}`);
  } catch (e) {
    if (optional && e instanceof HubError && e.code === 'not-found') return undefined;
    explain(e, cachedPathHint(s, p, file), 'HF_HUB_CACHE');
  }
  const bytes = readFileSync(got.path);
  if (!check(got.etag)(bytes)) {
    // The blob was there already but damaged: fetch it once more.
    rmSync(got.path, { force: true });
    rmSync(`${s.hfCache}/models--${p.repo.replace('/', '--')}/blobs/${got.etag}`, { force: true });
    got = await fetchHubFile(s, p.repo, p.revision, file, `${p.name} ${file}`);
    return { file: got, bytes: readFileSync(got.path), downloaded: true };
  }
  return { file: got, bytes, downloaded: got.downloaded };
}

const cachedPathHint = (s: HubSettings, p: { repo: string; revision: string }, file: string) =>
  `${s.hfCache}/models--${p.repo.replace('/', '--')}/snapshots/<${p.revision}>/${file}`;

async function hfHub(s: HubSettings, p: Extract<WeightsName, { kind: 'hf-hub' }>): Promise<ResolvedWeights> {
  const config = await hubFile(s, p, 'config.json');
  const where = `${p.name} config.json`;
  const cfg = readTimmConfig(new TextDecoder().decode(config!.bytes), where);
  // Refused before the weights are fetched: an architecture we do not build is named, with the ones we do.
  timmArchitecture(cfg.architecture, `${where}: architecture`);
  const weights = (await hubFile(s, p, 'model.safetensors', true)) ?? (await hubFile(s, p, 'pytorch_model.bin'))!;
  const sha = weights.file.etag.length === 64 ? weights.file.etag : sha256(weights.bytes);
  return {
    name: p.name,
    kind: 'hf-hub',
    path: weights.file.path,
    bytes: weights.bytes,
    url: weights.file.url,
    sha256: sha,
    downloaded: config!.downloaded || weights.downloaded,
    spec: timmSpec(cfg, p.name, weights.file.url, sha, where),
  };
}

async function fromUrl(s: HubSettings, p: Extract<WeightsName, { kind: 'url' }>): Promise<ResolvedWeights> {
  const f = await torchFile(s, p.name, p.file, p.url);
  const sha = sha256(f.bytes);
  // A mirror of a torchvision file is those weights.
  const tv = torchvisionTable().findLast((w) => w.file === p.file && w.build);
  return {
    name: p.name,
    kind: 'url',
    ...f,
    url: p.url.href,
    sha256: sha,
    ...(tv && { spec: torchvisionSpec(tv, p.name, p.url.href, sha) }),
  };
}

/**
 * Named weights, from the cache when they are there (torch.hub's and huggingface_hub's, shared with Python, no
 * network), else downloaded, verified and cached. Every file read is checked against the hash its name or blob
 * carries. `name`: 'torchvision:...', 'hf-hub:...' or an https:// URL.
 */
export async function resolveWeights(name: string, options: HubOptions = {}): Promise<ResolvedWeights> {
  const p = parseWeightsName(name);
  const s = hubSettings(options);
  if (p.kind === 'torchvision') return torchvision(s, p);
  if (p.kind === 'hf-hub') return hfHub(s, p);
  if (p.kind === 'url') return fromUrl(s, p);
  throw new HubError('bad-answer', `'${name}': expected a torchvision:, hf-hub: or https:// name, received a path`);
}

export type PretrainedModel = LoadedModel & { readonly weights: Omit<ResolvedWeights, 'bytes'> };

/**
 * The model for named weights, built and loaded: its arch, width, convention, classes and preprocessing come from
 * the name (torchvision's table, the repository's config.json); `options` adds the rest (embedding, batch, ...).
 * A URL of a file that is not torchvision's needs `options.arch`.
 */
export async function loadPretrained(
  name: string,
  options: Partial<ModelOptions> = {},
  hub: HubOptions = {},
): Promise<PretrainedModel> {
  const r = await resolveWeights(name, hub);
  const ckpt = readCheckpoint(r.bytes, r.path);
  const { bytes: _, ...weights } = r;
  if (r.spec) {
    const { arch, ...rest } = options;
    if (arch !== undefined && arch !== r.spec.options.arch)
      throw new HubError('bad-answer', `${r.name}: weights for ${r.spec.options.arch}, but option arch is ${arch}`);
    return { ...buildPretrained(r.spec, ckpt, rest), weights };
  }
  if (!options.arch)
    throw new HubError(
      'bad-answer',
      `${r.name}: a checkpoint URL needs the architecture (--arch / option arch): the file does not say which`,
    );
  const m = buildWithWeights(options as ModelOptions, ckpt, { source: r.name });
  const record = { name: r.name, url: r.url, sha256: r.sha256, categories: `${m.config.classes} classes` };
  const metadata = { ...m.graph.metadata, [WEIGHTS_METADATA_KEY]: JSON.stringify(record) };
  return { ...m, graph: { ...m.graph, metadata }, weights };
}

/** One row of `mobilenet weights list`. */
export interface PretrainedEntry {
  readonly name: string;
  readonly source: 'torchvision' | 'hf-hub';
  /** MiB: torchvision's `_file_size`; for timm, float32 parameters (approximate: `approx`). */
  readonly sizeMiB: number;
  readonly approx: boolean;
  /** ImageNet-1k top-1, or the task's own first metric with its name. */
  readonly metric: { readonly name: string; readonly value: number };
  /** The cache entry when it is there. */
  readonly cached?: string;
  /** Why it cannot be built yet (detection, segmentation). */
  readonly note?: string;
}

/** The names we know, with size, accuracy and whether each is in the cache (no network). */
export function listPretrained(options: HubOptions = {}): PretrainedEntry[] {
  const s = hubSettings(options);
  const table = torchvisionTable();
  // One row per model and value: a registered row shadows torchvision's.
  const rows = table.filter((w, i) => table.findLastIndex((x) => x.model === w.model && x.value === w.value) === i);
  const tv = rows.map((w): PretrainedEntry => {
    const isDefault = (TORCHVISION_DEFAULTS[w.model] ?? rows.find((x) => x.model === w.model)?.value) === w.value;
    const [metric, value] = Object.entries(w.metrics.values)[0]!;
    const path = torchCachePath(s, w.file);
    return {
      name: `torchvision:${w.model}${isDefault ? '' : `.${w.value}`}`,
      source: 'torchvision',
      sizeMiB: w.fileSizeMiB,
      approx: false,
      metric: { name: metric, value },
      ...(existsSync(path) && { cached: path }),
      ...(!w.build && { note: `${w.transforms.kind}: not built yet` }),
    };
  });
  const timm = TIMM_TAGS.map((t): PretrainedEntry => {
    const repo = `timm/${t.name}`;
    const hit =
      cachedHubFile(s.hfCache, repo, 'main', 'model.safetensors', '') ??
      cachedHubFile(s.hfCache, repo, 'main', 'pytorch_model.bin', '');
    return {
      name: `hf-hub:${repo}`,
      source: 'hf-hub',
      sizeMiB: (t.paramsM * 4e6) / 2 ** 20,
      approx: true,
      metric: { name: 'acc@1', value: t.acc1 },
      ...(hit && { cached: hit.path }),
    };
  });
  return [...tv, ...timm];
}
