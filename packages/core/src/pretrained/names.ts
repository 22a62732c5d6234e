import { MobileNetError } from '../ir/errors.js';
import { TORCHVISION_DEFAULTS, TORCHVISION_WEIGHTS, type TorchvisionWeights } from './torchvision.js';

/**
 * What a user may type where a checkpoint or a model is accepted, parsed and checked before any request:
 * - `torchvision:mobilenet_v3_large` (the enum's DEFAULT) or `torchvision:mobilenet_v3_large.IMAGENET1K_V1`;
 * - `hf-hub:timm/mobilenetv4_conv_small.e2400_r224_in1k` (timm's own syntax; `@revision` optional);
 * - an `https://` URL of a checkpoint (`http://` only for a loopback host);
 * - anything else is a path.
 */
export type WeightsName =
  | { readonly kind: 'torchvision'; readonly name: string; readonly weights: TorchvisionWeights }
  | {
      readonly kind: 'hf-hub';
      readonly name: string;
      /** 'timm/mobilenetv4_conv_small.e2400_r224_in1k' */
      readonly repo: string;
      readonly revision: string;
    }
  | { readonly kind: 'url'; readonly name: string; readonly url: URL; readonly file: string }
  | { readonly kind: 'path'; readonly path: string };

const fail = (name: string, expected: string, received: string): never => {
  throw new MobileNetError('weights-name', `weights name '${name.slice(0, 200)}'`, expected, received);
};

/** Weights registered from outside (`registerTorchvisionWeights`); a later row shadows an earlier one. */
const registered: TorchvisionWeights[] = [];

/** The table in effect: torchvision's rows, then the registered ones. */
export const torchvisionTable = (): readonly TorchvisionWeights[] => [...TORCHVISION_WEIGHTS, ...registered];

const defaultOf = (model: string): string | undefined =>
  TORCHVISION_DEFAULTS[model] ?? registered.find((w) => w.model === model)?.value;

/**
 * Adds a row to the torchvision table: weights published the way torchvision publishes its own (a file whose name
 * carries its sha256 prefix, under `MOBILENET_TORCHVISION_URL` or torchvision's address), e.g. a newer enum value
 * or your own fine-tuned file. A row with the model and value of an existing one shadows it until the returned
 * function removes it again (tests serve random-weight files under torchvision's names this way).
 */
export function registerTorchvisionWeights(w: TorchvisionWeights): () => void {
  if (!/^[a-z0-9_]{1,64}$/.test(w.model) || !/^[A-Z0-9_]{1,64}$/.test(w.value) || !/^[\w][\w.+-]{0,199}$/.test(w.file))
    throw new MobileNetError(
      'weights-name',
      `weights ${w.model}.${w.value}`,
      'a model [a-z0-9_], a value [A-Z0-9_] and a plain file name',
      `'${w.file}'`,
    );
  registered.push(w);
  return () => {
    const i = registered.lastIndexOf(w);
    if (i >= 0) registered.splice(i, 1);
  };
}

/** Every torchvision name we know, DEFAULT first for each model: 'torchvision:mobilenet_v2', '...IMAGENET1K_V1'. */
export function torchvisionNames(): string[] {
  const models = [...new Set(torchvisionTable().map((w) => w.model))];
  return models.flatMap((model) => [
    `torchvision:${model}`,
    ...[
      ...new Set(
        torchvisionTable()
          .filter((w) => w.model === model)
          .map((w) => w.value),
      ),
    ].map((v) => `torchvision:${model}.${v}`),
  ]);
}

function torchvision(name: string, rest: string): WeightsName {
  const m = /^([a-z0-9_]{1,64})(?:\.([A-Z0-9_]{1,64}))?$/.exec(rest);
  if (!m)
    return fail(
      name,
      "torchvision:MODEL or torchvision:MODEL.WEIGHTS (e.g. 'torchvision:mobilenet_v3_large')",
      `'${rest.slice(0, 80)}'`,
    );
  const [, model, value] = m;
  const table = torchvisionTable();
  const models = [...new Set(table.map((w) => w.model))];
  if (!models.includes(model!)) fail(name, `a torchvision model we know: ${models.join(', ')}`, `'${model}'`);
  const wanted = !value || value === 'DEFAULT' ? defaultOf(model!) : value;
  const weights = table.findLast((w) => w.model === model && w.value === wanted);
  if (!weights) {
    const values = [...new Set(table.filter((w) => w.model === model).map((w) => w.value))];
    return fail(name, `one of ${[...values, 'DEFAULT'].join(', ')} for ${model}`, `'${value}'`);
  }
  return { kind: 'torchvision', name: `torchvision:${model}.${weights.value}`, weights };
}

/**
 * A Hugging Face repository id as huggingface_hub's `validate_repo_id` allows it (`owner/name`, word characters,
 * '-' and '.', at most 96 each, no '--' or '..', not ending in '.git'): it becomes a cache folder
 * (`models--owner--name`), so nothing in it may climb out of the cache.
 */
function hfHub(name: string, rest: string): WeightsName {
  const [repo = '', revision = 'main', ...more] = rest.split('@');
  const part = /^[\w.-]{1,96}$/;
  const [owner, model, ...extra] = repo.split('/');
  const ok =
    more.length === 0 &&
    extra.length === 0 &&
    owner !== undefined &&
    model !== undefined &&
    part.test(owner) &&
    part.test(model) &&
    !/^[.-]|[.-]$/.test(owner) &&
    !/^[.-]|[.-]$/.test(model) &&
    !repo.includes('--') &&
    !repo.includes('..') &&
    !repo.endsWith('.git');
  if (!ok)
    fail(
      name,
      "hf-hub:OWNER/NAME with letters, digits, '_', '-', '.' (no '..' or '--'), e.g. 'hf-hub:timm/mobilenetv3_large_100.ra_in1k'",
      `'${rest.slice(0, 120)}'`,
    );
  if (!/^[A-Za-z0-9][\w.-]{0,99}$/.test(revision) || revision.includes('..'))
    fail(
      name,
      "a revision of letters, digits, '_', '-', '.' after '@' (a branch, tag or commit)",
      `'${revision.slice(0, 80)}'`,
    );
  return { kind: 'hf-hub', name: `hf-hub:${repo}${revision === 'main' ? '' : `@${revision}`}`, repo, revision };
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Whether a URL's host is this machine (where plain http:// cannot be read or changed on the way).
 * @internal
 */
export const isLoopback = (url: URL): boolean =>
  LOOPBACK.has(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);

/** The last path segment of a URL, if it can name a cache file: no '/', '\', '..', or leading '.'. */
export function urlFileName(url: URL): string | undefined {
  const last = decodeURIComponent(url.pathname.split('/').pop() ?? '');
  return /^[\w][\w.+-]{0,199}$/.test(last) && !last.includes('..') ? last : undefined;
}

function url(name: string): WeightsName {
  let u: URL;
  try {
    u = new URL(name);
  } catch {
    return fail(name, 'a valid URL', 'one that does not parse');
  }
  if (u.protocol === 'http:' && !isLoopback(u))
    fail(name, 'https:// (plain http:// only for 127.0.0.1 or localhost)', `http:// to ${u.hostname}`);
  if (u.username || u.password) fail(name, 'a URL without credentials in it', 'a user name or password');
  const file = urlFileName(u);
  if (!file)
    return fail(
      name,
      "a URL whose last path segment is a file name (e.g. '.../model-1a2b3c4d.pth')",
      `'${u.pathname.slice(-80)}'`,
    );
  return { kind: 'url', name: u.href, url: u, file };
}

/** Parses what a user typed; a name that looks like ours but is wrong is refused, naming what is allowed. */
export function parseWeightsName(name: string): WeightsName {
  if (name.startsWith('torchvision:')) return torchvision(name, name.slice('torchvision:'.length));
  if (name.startsWith('hf-hub:')) return hfHub(name, name.slice('hf-hub:'.length));
  if (/^https?:\/\//i.test(name)) return url(name);
  return { kind: 'path', path: name };
}

/** Whether a string is a pretrained name or URL rather than a path. */
export const isWeightsName = (s: string): boolean => /^(torchvision:|hf-hub:|https?:\/\/)/i.test(s);
