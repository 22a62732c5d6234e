import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { TORCHVISION_BASE_URL } from '@mobilenet/core';
import type { Progress } from './download.js';
import type { HttpSettings } from './http.js';

/** Options of every hub call; each falls back to the environment variable PyTorch or huggingface_hub reads. */
export interface HubOptions {
  /** The environment to read (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The cache only, no network (`HF_HUB_OFFLINE=1`, `MOBILENET_OFFLINE=1`). */
  readonly offline?: boolean;
  /** torch.hub's folder: default `$TORCH_HOME/hub`, `TORCH_HOME` defaulting to `$XDG_CACHE_HOME/torch` or ~/.cache/torch. */
  readonly torchHub?: string;
  /** huggingface_hub's cache: `$HF_HUB_CACHE`, default `$HF_HOME/hub` (`HF_HOME`: `$XDG_CACHE_HOME/huggingface`). */
  readonly hfCache?: string;
  /** The hub's address (`HF_ENDPOINT`, default https://huggingface.co). */
  readonly hfEndpoint?: string;
  /** Where torchvision's files are (`MOBILENET_TORCHVISION_URL`, default https://download.pytorch.org/models). */
  readonly torchvisionUrl?: string;
  /** A Hugging Face token (`HF_TOKEN`, or the file `$HF_HOME/token` that `huggingface-cli login` writes). */
  readonly token?: string;
  /** Largest file downloaded (`MOBILENET_MAX_DOWNLOAD`, bytes; default 2 GiB). */
  readonly maxBytes?: number;
  /** No answer within this long fails an attempt (default 10 s; `MOBILENET_HTTP_TIMEOUT`, seconds). */
  readonly timeoutMs?: number;
  /** Retries on 5xx, 429 and dropped connections (default 3). */
  readonly retries?: number;
  /** The first retry's wait, doubled each time (default 500 ms). */
  readonly backoffMs?: number;
  /** How long to wait for another process fetching the same file (default 10 min). */
  readonly lockWaitMs?: number;
  readonly onProgress?: (p: Progress) => void;
}

export interface HubSettings {
  readonly offline: boolean;
  readonly torchCheckpoints: string;
  readonly hfCache: string;
  readonly hfEndpoint: URL;
  readonly torchvisionUrl: URL;
  readonly token?: string;
  readonly maxBytes: number;
  readonly lockWaitMs: number;
  readonly http: HttpSettings;
  readonly onProgress?: (p: Progress) => void;
}

/** huggingface_hub's `_is_true`: 1, ON, YES, TRUE, any case. */
const isTrue = (v: string | undefined) => ['1', 'ON', 'YES', 'TRUE'].includes((v ?? '').toUpperCase());

function positive(v: string | undefined, fallback: number, scale = 1): number {
  const n = Number(v);
  return v !== undefined && v !== '' && Number.isFinite(n) && n > 0 ? n * scale : fallback;
}

function hfToken(env: HubOptions['env'] & object, hfHome: string): string | undefined {
  const t = env.HF_TOKEN ?? env.HUGGING_FACE_HUB_TOKEN;
  if (t?.trim()) return t.trim();
  try {
    return readFileSync(env.HF_TOKEN_PATH ?? join(hfHome, 'token'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function baseUrl(raw: string, what: string): URL {
  try {
    const u = new URL(raw.replace(/\/+$/, ''));
    if (u.protocol === 'https:' || u.protocol === 'http:') return u;
  } catch {
    // Below.
  }
  throw new Error(`${what}: expected an http(s) URL, received '${raw.slice(0, 100)}'`);
}

/**
 * The settings in effect: options first, then the environment PyTorch and huggingface_hub read, then defaults.
 * @internal
 */
export function hubSettings(o: HubOptions = {}): HubSettings {
  const env = o.env ?? process.env;
  const xdg = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  const torchHome = env.TORCH_HOME || join(xdg, 'torch');
  const hfHome = env.HF_HOME || join(xdg, 'huggingface');
  const token = o.token ?? hfToken(env, hfHome);
  const proxy = {
    ...((env.HTTPS_PROXY ?? env.https_proxy) && { https: env.HTTPS_PROXY ?? env.https_proxy }),
    ...((env.HTTP_PROXY ?? env.http_proxy) && { http: env.HTTP_PROXY ?? env.http_proxy }),
    noProxy: (env.NO_PROXY ?? env.no_proxy ?? '').split(','),
  };
  return {
    offline:
      o.offline ?? (isTrue(env.HF_HUB_OFFLINE) || isTrue(env.TRANSFORMERS_OFFLINE) || isTrue(env.MOBILENET_OFFLINE)),
    torchCheckpoints: join(o.torchHub ?? join(torchHome, 'hub'), 'checkpoints'),
    hfCache: o.hfCache ?? env.HF_HUB_CACHE ?? env.HUGGINGFACE_HUB_CACHE ?? join(hfHome, 'hub'),
    hfEndpoint: baseUrl(o.hfEndpoint ?? env.HF_ENDPOINT ?? 'https://huggingface.co', 'HF_ENDPOINT'),
    torchvisionUrl: baseUrl(
      o.torchvisionUrl ?? env.MOBILENET_TORCHVISION_URL ?? TORCHVISION_BASE_URL,
      'MOBILENET_TORCHVISION_URL',
    ),
    ...(token && { token }),
    maxBytes: o.maxBytes ?? positive(env.MOBILENET_MAX_DOWNLOAD, 2 ** 31),
    lockWaitMs: o.lockWaitMs ?? 600_000,
    http: {
      timeoutMs: o.timeoutMs ?? positive(env.MOBILENET_HTTP_TIMEOUT, 10_000, 1000),
      retries: o.retries ?? 3,
      backoffMs: o.backoffMs ?? 500,
      maxRedirects: 10,
      proxy,
      userAgent: 'mobilenet-ts',
    },
    ...(o.onProgress && { onProgress: o.onProgress }),
  };
}
