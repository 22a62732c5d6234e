// The real download code against a local server that answers as download.pytorch.org and the Hugging Face hub do
// (@mobilenet/test-support/fake-hub): caches in torch.hub's and huggingface_hub's layouts, verification, resume, locks,
// offline mode, and each fault the issue lists. Nothing here reaches outside 127.0.0.1.
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  TORCHVISION_WEIGHTS,
  buildModel,
  readSafetensors,
  registerTorchvisionWeights,
  toFloat32,
  toOnnx,
  writeSafetensors,
} from '@mobilenet/core';
import * as ort from 'onnxruntime-node';
import { formulaCheckpoint, formulaFill, formulaInput, relError } from '@mobilenet/core/testing';
import { type FakeHub, cdnPath, startFakeHub } from '@mobilenet/test-support/fake-hub';
import { HubError, type HubOptions, listPretrained, loadPretrained, resolveWeights } from './index.js';

const CORE_FIXTURES = new URL('../../../core/test/fixtures/', import.meta.url).pathname;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'mobilenet-hub-'));
  dirs.push(d);
  return d;
};

let hub: FakeHub;
beforeAll(async () => {
  hub = await startFakeHub();
});
afterAll(async () => {
  await hub.close();
  for (const d of dirs) {
    try {
      chmodSync(d, 0o755);
    } catch {}
    rmSync(d, { recursive: true, force: true });
  }
});

/** Options with fresh, empty caches, this server as both hubs, and fast retries. */
function fresh(extra: Partial<HubOptions> = {}, env: Record<string, string> = {}): HubOptions {
  const home = tmp();
  return {
    env: {
      TORCH_HOME: join(home, 'torch'),
      HF_HOME: join(home, 'hf'),
      HF_ENDPOINT: hub.url,
      MOBILENET_TORCHVISION_URL: `${hub.url}/models`,
      ...env,
    },
    backoffMs: 10,
    timeoutMs: 5000,
    ...extra,
  };
}
const torchDir = (o: HubOptions) => join(o.env!.TORCH_HOME!, 'hub', 'checkpoints');
const hfDir = (o: HubOptions) => join(o.env!.HF_HOME!, 'hub');
const failure = async (p: Promise<unknown>): Promise<HubError> => {
  try {
    await p;
  } catch (e) {
    if (e instanceof HubError) return e;
    throw e;
  }
  throw new Error('expected a HubError');
};

/** A torchvision-layout v3-Small checkpoint (our parameter names are torchvision's keys), formula weights. */
const v3small = (() => {
  const { graph } = buildModel({ arch: 'v3-small', convention: 'torchvision', weights: formulaFill });
  const tensors = Object.fromEntries(
    graph.initializers
      .filter((i) => /^(features|classifier)\./.test(i.name))
      .map((i) => [
        i.name,
        { dtype: 'F32' as const, shape: i.dims, bytes: new Uint8Array((i.data as Float32Array).buffer) },
      ]),
  );
  return writeSafetensors(tensors);
})();
const v3smallFile = `mobilenet_v3_small-${sha256(v3small).slice(0, 8)}.pth`;
const realSmall = TORCHVISION_WEIGHTS.find((w) => w.model === 'mobilenet_v3_small')!;

let unregister: (() => void) | undefined;
afterEach(() => {
  unregister?.();
  unregister = undefined;
});

describe('torchvision names', () => {
  it("download into $TORCH_HOME/hub/checkpoints/<file>, verified by the name's sha256 prefix; the next call uses the cache, no network", async () => {
    hub.torchvision(v3smallFile, v3small);
    // torchvision's row with the fixture's file: random weights cannot carry torchvision's hash.
    unregister = registerTorchvisionWeights({ ...realSmall, file: v3smallFile });
    const o = fresh();
    const seen: number[] = [];
    const r = await resolveWeights('torchvision:mobilenet_v3_small', {
      ...o,
      onProgress: (p) => void seen.push(p.received),
    });
    expect(r).toMatchObject({
      name: 'torchvision:mobilenet_v3_small.IMAGENET1K_V1',
      kind: 'torchvision',
      downloaded: true,
      sha256: sha256(v3small),
    });
    expect(r.path).toBe(join(torchDir(o), v3smallFile));
    expect(readdirSync(torchDir(o)).sort()).toEqual([v3smallFile]); // no partial, no lock left
    expect(seen.at(-1)).toBe(v3small.length);
    const before = hub.log.length;
    const again = await resolveWeights('torchvision:mobilenet_v3_small', o);
    expect(again.downloaded).toBe(false);
    expect(hub.log.length).toBe(before);
    const m = await loadPretrained('torchvision:mobilenet_v3_small', {}, { ...o, offline: true });
    expect(m.config).toMatchObject({ arch: 'v3-small', convention: 'torchvision', classes: 1000 });
    expect(JSON.parse(m.graph.metadata['mobilenet.preprocessing']!)).toMatchObject({
      resize: 256,
      size: 224,
      interpolation: 'bilinear',
    });
    expect(JSON.parse(m.graph.metadata['mobilenet.weights']!)).toEqual({
      name: 'torchvision:mobilenet_v3_small.IMAGENET1K_V1',
      url: `${hub.url}/models/${v3smallFile}`,
      sha256: sha256(v3small),
      categories: 'imagenet (1000)',
    });
  });

  it("refuses bytes that do not match torchvision's own file name, and caches nothing", async () => {
    hub.torchvision(realSmall.file, v3small);
    const o = fresh();
    const e = await failure(resolveWeights('torchvision:mobilenet_v3_small', o));
    expect(e.code).toBe('hash-mismatch');
    expect(e.message).toContain(
      `torchvision:mobilenet_v3_small.IMAGENET1K_V1: ${hub.url}/models/${realSmall.file} -> ${join(torchDir(o), realSmall.file)}: sha256 (the file name's prefix 047dcff4) mismatch: expected 047dcff4..., received ${sha256(v3small)}; nothing was cached`,
    );
    expect(readdirSync(torchDir(o))).toEqual([]);
  });

  it('a cache entry truncated by an earlier crash is found by its hash: fetched again online, named offline', async () => {
    const file = `trunc-${sha256(v3small).slice(0, 8)}.pth`;
    hub.torchvision(file, v3small);
    const o = fresh();
    mkdirSync(torchDir(o), { recursive: true });
    writeFileSync(join(torchDir(o), file), v3small.subarray(0, 1000));
    const offline = await failure(resolveWeights(`${hub.url}/models/${file}`, { ...o, offline: true }));
    expect(offline.message).toMatch(
      /does not match the sha256 prefix .* in its name \(damaged by an earlier crash\?\)/,
    );
    const r = await resolveWeights(`${hub.url}/models/${file}`, o);
    expect(r.downloaded).toBe(true);
    expect(readFileSync(r.path).length).toBe(v3small.length);
  });
});

// A timm-shaped repository: config.json (timm's save_config_for_hf) + model.safetensors (formula weights on
// timm's keys, committed with timm's logits for them).
function timmRepo(architecture: string, keysFile: string, cfg: object = {}) {
  const keys = JSON.parse(readFileSync(CORE_FIXTURES + keysFile, 'utf8')).models[architecture].keys;
  const weights = writeSafetensors(formulaCheckpoint(keys));
  const config = JSON.stringify({
    architecture,
    num_classes: 1000,
    num_features: 1280,
    pretrained_cfg: {
      tag: 'x',
      custom_load: false,
      input_size: [3, 224, 224],
      fixed_input_size: false,
      interpolation: 'bicubic',
      crop_pct: 0.875,
      crop_mode: 'center',
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
      num_classes: 1000,
      pool_size: [7, 7],
      first_conv: 'conv_stem',
      classifier: 'classifier',
      license: 'apache-2.0',
      ...cfg,
    },
  });
  return { 'config.json': new TextEncoder().encode(config), 'model.safetensors': weights };
}

describe('hf-hub names', () => {
  it.each([
    ['mobilenetv1_100.ra4_e3600_r224_in1k', 'timm/timm-keys.json', 'timm-registered/mobilenetv1_100.json'],
    ['mobilenetv2_100.ra_in1k', 'timm/timm-keys.json', 'timm-registered/mobilenetv2_100.json'],
    ['mobilenetv3_large_100.ra_in1k', 'timm/timm-keys.json', 'timm-registered/mobilenetv3_large_100.json'],
    [
      'mobilenetv4_conv_small.e2400_r224_in1k',
      'timm-v4/timm-v4-keys.json',
      'timm-v4/logits/mobilenetv4_conv_small.json',
    ],
  ])(
    "hf-hub:timm/%s: huggingface_hub's cache layout, then timm's logits, with no --arch",
    async (tagged, keysFile, logitsFile) => {
      const architecture = tagged.split('.')[0]!;
      const files = timmRepo(architecture, keysFile);
      const repo = `timm/${tagged}`;
      const commit = hub.repo(repo, files);
      const o = fresh();
      const m = await loadPretrained(`hf-hub:${repo}`, { batch: 1 }, o);
      const folder = join(hfDir(o), `models--timm--${tagged}`);
      const sha = sha256(files['model.safetensors']);
      expect(readFileSync(join(folder, 'refs', 'main'), 'utf8')).toBe(commit);
      expect(readlinkSync(join(folder, 'snapshots', commit, 'model.safetensors'))).toBe(`../../blobs/${sha}`);
      expect(lstatSync(join(folder, 'blobs', sha)).isFile()).toBe(true);
      expect(readdirSync(join(folder, 'blobs')).sort()).toHaveLength(2); // config.json's git-sha1 blob and the weights
      expect(m.weights).toMatchObject({
        kind: 'hf-hub',
        sha256: sha,
        url: `${hub.url}/${repo}/resolve/main/model.safetensors`,
      });
      const want = JSON.parse(readFileSync(CORE_FIXTURES + logitsFile, 'utf8'));
      const session = await ort.InferenceSession.create(toOnnx(m.graph), {
        executionProviders: ['cpu'],
        intraOpNumThreads: 1,
      });
      const shape = want.input.shape as number[];
      const out = await session.run({ input: new ort.Tensor('float32', formulaInput(shape), shape) });
      await session.release();
      expect(relError(out.logits!.data as Float32Array, want.logits)).toBeLessThan(1e-4);
      expect(JSON.parse(m.graph.metadata['mobilenet.weights']!)).toMatchObject({ license: 'apache-2.0' });
      // Offline, from the cache alone.
      const before = hub.log.length;
      await resolveWeights(`hf-hub:${repo}`, { ...o, offline: true });
      expect(hub.log.length).toBe(before);
    },
  );

  it("reads pretrained_cfg's preprocessing and a fine-tuned head's label_names", async () => {
    const weights = readFileSync(`${CORE_FIXTURES}timm/mobilenetv3_small_050.safetensors`);
    const labels = Array.from({ length: 10 }, (_, i) => `thing ${i}`);
    const config = {
      architecture: 'mobilenetv3_small_050',
      num_classes: 10,
      label_names: labels,
      pretrained_cfg: {
        input_size: [3, 96, 96],
        crop_pct: 0.95,
        interpolation: 'bilinear',
        mean: [0, 0, 0],
        std: [1, 1, 1],
      },
    };
    hub.repo('someone/small-10', {
      'config.json': new TextEncoder().encode(JSON.stringify(config)),
      'model.safetensors': weights,
    });
    const m = await loadPretrained('hf-hub:someone/small-10', {}, fresh());
    expect(m.config).toMatchObject({ arch: 'v3-small', width: 0.5, resolution: 96, classes: 10, convention: 'timm' });
    expect(JSON.parse(m.graph.metadata['mobilenet.preprocessing']!)).toEqual({
      mean: [0, 0, 0],
      std: [1, 1, 1],
      resizeMode: 'crop',
      resize: 101,
      size: 96,
      interpolation: 'bilinear',
    });
    expect(JSON.parse(m.graph.metadata['mobilenet.labels']!)).toEqual(labels);
    // timm's logits for these weights (tools/fixtures/timm_fixtures.py).
    const io = readSafetensors(readFileSync(`${CORE_FIXTURES}timm/mobilenetv3_small_050.io.safetensors`), 'io').tensors;
    const input = toFloat32(io.get('input')!, 'input');
    const session = await ort.InferenceSession.create(toOnnx(m.graph), {
      executionProviders: ['cpu'],
      intraOpNumThreads: 1,
    });
    const out = await session.run({ input: new ort.Tensor('float32', input, [1, 3, 96, 96]) });
    await session.release();
    expect(relError(out.logits!.data as Float32Array, toFloat32(io.get('logits')!, 'logits'))).toBeLessThan(1e-4);
  });

  it('refuses an architecture we do not build by name, before fetching its weights', async () => {
    const files = {
      'config.json': new TextEncoder().encode(
        '{"architecture": "mobilenetv3_rw", "num_classes": 1000, "pretrained_cfg": {}}',
      ),
      'model.safetensors': new Uint8Array(100),
    };
    hub.repo('timm/mobilenetv3_rw.rmsp_in1k', files);
    const e = await failure(resolveWeights('hf-hub:timm/mobilenetv3_rw.rmsp_in1k', fresh())).catch((x) => x);
    expect(String(e.message)).toMatch(
      /hf-hub:timm\/mobilenetv3_rw.rmsp_in1k config.json: architecture: expected one of the timm architectures we build: mobilenetv1_100, .*, received 'mobilenetv3_rw'/,
    );
    expect(hub.log.some((l) => l.path.includes('mobilenetv3_rw') && l.path.endsWith('model.safetensors'))).toBe(false);
  });
});

/** A repository with one LFS file of random bytes, for the fault tests. */
function blobRepo(id: string, n = 200_000) {
  const seed = createHash('sha256').update(id).digest()[0]!;
  const bytes = new Uint8Array(n).map((_, i) => (i * 7919 + seed) % 251);
  const config = timmRepo('mobilenetv3_small_050', 'timm/timm-keys.json')['config.json'];
  hub.repo(id, { 'config.json': config, 'model.safetensors': bytes });
  return {
    bytes,
    cdn: cdnPath(bytes),
    sha: sha256(bytes),
    folder: (o: HubOptions) => join(hfDir(o), `models--${id.replace('/', '--')}`),
  };
}
const fetchBlob = (id: string, o: HubOptions) => resolveWeights(`hf-hub:${id}`, o).catch((e) => e);

describe('faults', () => {
  it('a connection dropped mid-body resumes with a Range request; the bytes verify', async () => {
    const b = blobRepo('t/dropped');
    hub.fault(b.cdn, { drop: 50_000 });
    const o = fresh();
    const r = await fetchBlob('t/dropped', o);
    expect(r.sha256).toBe(b.sha);
    expect(readFileSync(join(b.folder(o), 'blobs', b.sha))).toEqual(Buffer.from(b.bytes));
    const ranges = hub.log.filter((l) => l.path === b.cdn && l.range);
    expect(ranges.map((l) => l.range)).toEqual(['bytes=50000-']);
  });

  it('a partial file left by a crash (blobs/<sha>.incomplete, as huggingface_hub names it) is resumed', async () => {
    const b = blobRepo('t/crashed');
    const o = fresh();
    mkdirSync(join(b.folder(o), 'blobs'), { recursive: true });
    writeFileSync(join(b.folder(o), 'blobs', `${b.sha}.incomplete`), b.bytes.subarray(0, 123_456));
    await fetchBlob('t/crashed', o);
    expect(hub.log.filter((l) => l.path === b.cdn).map((l) => l.range)).toEqual(['bytes=123456-']);
    expect(sha256(readFileSync(join(b.folder(o), 'blobs', b.sha)))).toBe(b.sha);
  });

  it('wrong bytes: refused, and nothing is left in the cache', async () => {
    const b = blobRepo('t/corrupt');
    hub.fault(b.cdn, { corrupt: true });
    const o = fresh();
    const e = await fetchBlob('t/corrupt', o);
    expect(e.code).toBe('hash-mismatch');
    expect(e.message).toContain(`sha256 mismatch: expected ${b.sha}`);
    expect(
      readdirSync(join(b.folder(o), 'blobs')).filter(
        (f) => f !== readdirSync(join(b.folder(o), 'blobs'))[0] || f.startsWith(b.sha),
      ),
    ).toEqual([]);
    expect(existsSync(join(b.folder(o), 'blobs', b.sha))).toBe(false);
    expect(existsSync(join(b.folder(o), 'blobs', `${b.sha}.incomplete`))).toBe(false);
  });

  it('404 names the model and the URL; 401 says a token is needed, and the token is not sent to the CDN', async () => {
    const nf = await failure(resolveWeights('hf-hub:timm/no_such_model.x', fresh()));
    expect(nf.code).toBe('not-found');
    expect(nf.message).toBe(
      `hf-hub:timm/no_such_model.x config.json: not found (404) at ${hub.url}/timm/no_such_model.x/resolve/main/config.json`,
    );
    const b = blobRepo('t/gated');
    hub.repo(
      't/gated',
      {
        'config.json': timmRepo('mobilenetv3_small_050', 'timm/timm-keys.json')['config.json'],
        'model.safetensors': b.bytes,
      },
      { gated: true },
    );
    const denied = await failure(resolveWeights('hf-hub:t/gated', fresh()));
    expect(denied.code).toBe('unauthorized');
    expect(denied.message).toMatch(/answered 401: this repository needs a token \(gated or private\): set HF_TOKEN/);
    const o = fresh({}, { HF_TOKEN: 'hf_test_token' });
    const ok = await fetchBlob('t/gated', o);
    expect(ok.message).toBeUndefined();
    expect(existsSync(join(b.folder(o), 'blobs', b.sha))).toBe(true);
    const cdn = hub.log.filter((l) => l.path === b.cdn);
    expect(cdn.length).toBeGreaterThan(0);
    expect(cdn.every((l) => l.authorization === undefined)).toBe(true);
    expect(hub.log.filter((l) => l.path === '/t/gated/resolve/main/model.safetensors').at(-1)?.authorization).toBe(
      'Bearer hf_test_token',
    );
  });

  it('a slow server fails with the timeout named', async () => {
    hub.torchvision('slow-00000000.pth', new Uint8Array(10));
    hub.fault('/models/slow-00000000.pth', { stall: true });
    const e = await failure(
      resolveWeights(`${hub.url}/models/slow-00000000.pth`, fresh({ timeoutMs: 300, retries: 0 })),
    );
    expect(e.code).toBe('timeout');
    expect(e.message).toContain(
      `/models/slow-00000000.pth ended early 1 time (last: ETIMEDOUT: no data for 0.3 s); 0 bytes kept in `,
    );
    hub.fault('/models/slow-00000000.pth', { silent: true });
    const silent = await failure(
      resolveWeights(`${hub.url}/models/slow-00000000.pth`, fresh({ timeoutMs: 300, retries: 0 })),
    );
    expect(silent.code).toBe('timeout');
    expect(silent.message).toBe(
      `${hub.url}/models/slow-00000000.pth: ${hub.url}/models/slow-00000000.pth: ETIMEDOUT: no answer within 0.3 s`,
    );
  });

  it('500 twice, then 200: retried with backoff, and fetched', async () => {
    const bytes = new Uint8Array(5000).fill(3);
    const file = `flaky-${sha256(bytes).slice(0, 8)}.pth`;
    hub.torchvision(file, bytes);
    hub.fault(`/models/${file}`, { status: 500 }, { status: 500 });
    const r = await resolveWeights(`${hub.url}/models/${file}`, fresh());
    expect(r.downloaded).toBe(true);
    expect(hub.log.filter((l) => l.path === `/models/${file}`)).toHaveLength(3);
  });

  it('a redirect loop is named', async () => {
    hub.fault('/models/loop-00000000.pth', { redirect: '/models/loop2.pth' });
    hub.fault('/models/loop2.pth', { redirect: '/models/loop-00000000.pth' });
    const e = await failure(resolveWeights(`${hub.url}/models/loop-00000000.pth`, fresh()));
    expect(e.code).toBe('redirect');
    expect(e.message).toContain(`redirect loop: ${hub.url}/models/loop-00000000.pth was visited already`);
  });

  it('a huge Content-Length is refused before the download', async () => {
    hub.torchvision('huge-00000000.pth', new Uint8Array(10));
    hub.fault('/models/huge-00000000.pth', { length: 3 * 2 ** 30 });
    const o = fresh();
    const e = await failure(resolveWeights(`${hub.url}/models/huge-00000000.pth`, o));
    expect(e.code).toBe('too-large');
    expect(e.message).toContain(
      'is 3072.0 MiB, over the cap of 2048.0 MiB (MOBILENET_MAX_DOWNLOAD raises it); nothing was downloaded',
    );
    expect(readdirSync(torchDir(o))).toEqual([]);
  });

  it('a cache folder that cannot be written is named, with the variable that moves it', async () => {
    const o = fresh();
    const ro = process.getuid?.() === 0 ? `/sys/fs/mobilenet-${process.pid}` : join(tmp(), 'ro');
    if (process.getuid?.() !== 0) mkdirSync(ro, { mode: 0o555 });
    const e = await failure(
      resolveWeights(`${hub.url}/models/any-00000000.pth`, { ...o, env: { ...o.env, TORCH_HOME: ro } }),
    );
    expect(e.code).toBe('cache');
    expect(e.message).toMatch(/cannot create the cache folder .*set TORCH_HOME to a writable folder/);
  });

  it('two concurrent fetches of one file end with one download and one good copy', async () => {
    const b = blobRepo('t/concurrent', 400_000);
    hub.fault(b.cdn, { slowMs: 600 });
    const o = fresh();
    const [x, y] = await Promise.all([fetchBlob('t/concurrent', o), fetchBlob('t/concurrent', o)]);
    expect(String(x.message)).toBe(String(y.message)); // both read the same (non-model) bytes
    expect(hub.bodies(b.cdn)).toBe(1);
    expect(readdirSync(join(b.folder(o), 'blobs')).filter((f) => !/^[0-9a-f]+$/.test(f))).toEqual([]);
    expect(readdirSync(join(hfDir(o), '.locks', 'models--t--concurrent'))).toEqual([]);
  });

  it('no network and no cache: one line that says so', async () => {
    const o = fresh({}, { HF_ENDPOINT: 'http://127.0.0.1:9' });
    const e = await failure(resolveWeights('hf-hub:timm/mobilenetv3_large_100.ra_in1k', o));
    expect(e.code).toBe('no-network');
    expect(e.message).toMatch(
      /^hf-hub:timm\/mobilenetv3_large_100.ra_in1k config.json: cannot reach 127.0.0.1:9 \(ECONNREFUSED.*\); not in the cache \(.*models--timm--mobilenetv3_large_100.ra_in1k\/snapshots\/<main>\/config.json\): no network\?/,
    );
    expect(e.message).not.toContain('\n');
  });

  it('offline: the cache only, naming the missing file and the command that fetches it', async () => {
    const e = await failure(resolveWeights('torchvision:mobilenet_v3_large', fresh({}, { HF_HUB_OFFLINE: '1' })));
    expect(e.code).toBe('offline');
    expect(e.message).toMatch(
      /^torchvision:mobilenet_v3_large.IMAGENET1K_V2: .*hub\/checkpoints\/mobilenet_v3_large-5c1a4163.pth is not in the cache, and offline mode is on \(--offline, HF_HUB_OFFLINE=1 or MOBILENET_OFFLINE=1\); fetch it where there is a network with: mobilenet weights fetch torchvision:mobilenet_v3_large.IMAGENET1K_V2$/,
    );
    expect(hub.log.some((l) => l.path.includes('5c1a4163'))).toBe(false);
  });

  it('HTTP_PROXY carries plain-http requests; NO_PROXY bypasses it', async () => {
    const bytes = new Uint8Array(3000).fill(9);
    const file = `proxied-${sha256(bytes).slice(0, 8)}.pth`;
    hub.torchvision(file, bytes);
    const via: string[] = [];
    const proxy = http.createServer((req, res) => {
      via.push(req.url!);
      const up = http.request(req.url!, { method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode!, r.headers);
        r.pipe(res);
      });
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      await resolveWeights(`${hub.url}/models/${file}`, fresh({}, { HTTP_PROXY: proxyUrl }));
      expect(via).toEqual([`${hub.url}/models/${file}`]);
      await resolveWeights(`${hub.url}/models/${file}`, fresh({}, { HTTP_PROXY: proxyUrl, NO_PROXY: '127.0.0.1' }));
      expect(via).toHaveLength(1);
    } finally {
      await new Promise((r) => proxy.close(r));
    }
  });
});

describe('weights list', () => {
  it('lists the known names with size, accuracy and whether each is cached', async () => {
    const o = fresh();
    const rows = listPretrained(o);
    expect(rows.find((r) => r.name === 'torchvision:mobilenet_v3_large')).toEqual({
      name: 'torchvision:mobilenet_v3_large',
      source: 'torchvision',
      sizeMiB: 21.107,
      approx: false,
      metric: { name: 'acc@1', value: 75.274 },
    });
    expect(rows.find((r) => r.name === 'torchvision:lraspp_mobilenet_v3_large')?.note).toBe(
      'segmentation: not built yet',
    );
    expect(rows.find((r) => r.name === 'hf-hub:timm/mobilenetv4_conv_small.e2400_r224_in1k')).toMatchObject({
      approx: true,
      metric: { value: 73.756 },
    });
    const files = timmRepo('mobilenetv4_conv_small', 'timm-v4/timm-v4-keys.json');
    hub.repo('timm/mobilenetv4_conv_small.e2400_r224_in1k', files);
    await resolveWeights('hf-hub:timm/mobilenetv4_conv_small.e2400_r224_in1k', o);
    expect(
      listPretrained(o).find((r) => r.name === 'hf-hub:timm/mobilenetv4_conv_small.e2400_r224_in1k')?.cached,
    ).toMatch(/snapshots\/[0-9a-f]{40}\/model.safetensors$/);
  });
});
