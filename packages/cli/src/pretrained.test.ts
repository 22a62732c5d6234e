// Pretrained names as a user types them, against the local hub (packages/test-support/src/fake-hub.ts):
// `classify --model torchvision:mobilenet_v3_large` gives PyTorch's top-5 for the same weights with torchvision's
// own transforms (resize 232), hf-hub names need no --arch, export records the weights, offline works from the cache.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TORCHVISION_WEIGHTS, registerTorchvisionWeights, summarizeOnnx } from '@mobilenet/core';
import { skipUnless } from '@mobilenet/test-support';
import { type FakeHub, startFakeHub } from '@mobilenet/test-support/fake-hub';
import { ROOT, run } from '../test/testing.js';

const PYTHON = process.env.MOBILENET_PYTHON ?? '/usr/bin/python3';
const PHOTO = join(ROOT, 'apps/demo/public/samples/chelsea.jpg');
const TIMM = resolve(import.meta.dirname, '../../core/test/fixtures/timm/mobilenetv3_small_050.safetensors');
const dir = mkdtempSync(join(tmpdir(), 'mobilenet-cli-pretrained-'));
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const ENV = [
  'TORCH_HOME',
  'HF_HOME',
  'HF_HUB_CACHE',
  'HF_ENDPOINT',
  'MOBILENET_TORCHVISION_URL',
  'HF_HUB_OFFLINE',
  'MOBILENET_OFFLINE',
  'HF_TOKEN',
  'XDG_CACHE_HOME',
];
const saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));
let hub: FakeHub;

beforeAll(async () => {
  hub = await startFakeHub();
  for (const k of ENV) delete process.env[k];
  Object.assign(process.env, {
    TORCH_HOME: join(dir, 'torch'),
    HF_HOME: join(dir, 'hf'),
    HF_ENDPOINT: hub.url,
    MOBILENET_TORCHVISION_URL: `${hub.url}/models`,
  });
});
afterAll(async () => {
  await hub.close();
  for (const k of ENV) saved[k] === undefined ? delete process.env[k] : (process.env[k] = saved[k]);
  rmSync(dir, { recursive: true, force: true });
});

const torchMissing = skipUnless(
  'PyTorch (python3-torch, python3-torchvision)',
  spawnSync(PYTHON, ['-c', 'import torch, torchvision'], { encoding: 'utf8' }).status === 0
    ? null
    : `${PYTHON} cannot import torch/torchvision`,
);

const SAMPLES = ['chelsea.jpg', 'astronaut.jpg', 'coffee.jpg', 'rocket.jpg'].map((f) =>
  join(ROOT, 'apps/demo/public/samples', f),
);
type Top5 = { resize: number[]; index: number[]; prob: number[]; labels: string[] };

describe('torchvision names in the CLI', () => {
  it.skipIf(torchMissing !== null)(
    `classify PHOTO --model torchvision:mobilenet_v3_large: PyTorch's top-5 and probabilities, resize 232 ${torchMissing ?? ''}`,
    async () => {
      // torchvision's mobilenet_v3_large, random weights conditioned for photos, and PyTorch's top-5 for the photo
      // under the enum's own transforms (tools/fixtures/pretrained_photo.py).
      const pth = join(dir, 'mobilenet_v3_large.pth');
      const made = spawnSync(PYTHON, [join(ROOT, 'tools/fixtures/pretrained_photo.py'), pth, PHOTO, ...SAMPLES], {
        encoding: 'utf8',
      });
      if (made.status !== 0) throw new Error(made.stderr);
      const oracle = JSON.parse(made.stdout) as { V2: Top5; V1: Top5; 'V2-PIL': Top5 };
      const png = join(dir, 'mobilenet_v3_large.png');
      const bytes = readFileSync(pth);
      const file = `mobilenet_v3_large-${sha256(bytes).slice(0, 8)}.pth`;
      hub.torchvision(file, bytes);
      // torchvision's DEFAULT row with this file: random weights cannot carry torchvision's own hash.
      const row = TORCHVISION_WEIGHTS.find((w) => w.model === 'mobilenet_v3_large' && w.value === 'IMAGENET1K_V2')!;
      const unregister = registerTorchvisionWeights({ ...row, file });
      try {
        const r = await run('classify', png, '--model', 'torchvision:mobilenet_v3_large', '--top', '5', '--json');
        expect(r.code, r.err).toBe(0);
        expect(r.err).toContain(
          `mobilenet classify: downloaded torchvision:mobilenet_v3_large.IMAGENET1K_V2: ${(bytes.length / 2 ** 20).toFixed(1)} MiB in `,
        );
        expect(r.err).toContain(
          `mobilenet classify: weights: torchvision:mobilenet_v3_large.IMAGENET1K_V2 (v3-large width 1, convention torchvision, 1000 classes), sha256 ${sha256(bytes).slice(0, 12)}..., downloaded ${join(dir, 'torch', 'hub', 'checkpoints', file)}; preprocessing: resize 232, crop 224, bilinear\n`,
        );
        expect(r.err).not.toContain('carry no meaning');
        const ours = JSON.parse(r.out)[0].top as { index: number; probability: number; label: string }[];
        const theirs = oracle.V2;
        expect(theirs.resize).toEqual([232]);
        expect(ours.map((p) => p.index)).toEqual(theirs.index);
        expect(ours.map((p) => p.label)).toEqual(theirs.labels);
        // The V1 transforms (resize 256) rank these classes otherwise: the resize is what is being checked.
        expect(oracle.V1.index).not.toEqual(theirs.index);
        // Through PIL (8-bit pixels after the resize) the probabilities move by ~5e-3, the ranking does not.
        expect(ours.map((p) => p.index)).toEqual(oracle['V2-PIL'].index);
        for (let k = 0; k < 5; k++) expect(Math.abs(ours[k]!.probability - theirs.prob[k]!)).toBeLessThan(1e-4);

        // Offline, from the cache: the same answer, and no request.
        const before = hub.log.length;
        const off = await run('classify', png, '--model', 'torchvision:mobilenet_v3_large', '--offline', '--json');
        expect(off.code, off.err).toBe(0);
        expect(JSON.parse(off.out)[0].top).toEqual(ours);
        expect(off.err).toContain('from the cache');
        expect(hub.log.length).toBe(before);
      } finally {
        unregister();
      }
    },
  );

  it('offline with nothing cached: one line naming the file and the command that fetches it (exit 1)', async () => {
    const r = await run('classify', PHOTO, '--model', 'torchvision:mobilenet_v2.IMAGENET1K_V1', '--offline');
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      `mobilenet classify: torchvision:mobilenet_v2.IMAGENET1K_V1: ${join(dir, 'torch', 'hub', 'checkpoints', 'mobilenet_v2-b0353104.pth')} is not in the cache, and offline mode is on (--offline, HF_HUB_OFFLINE=1 or MOBILENET_OFFLINE=1); fetch it where there is a network with: mobilenet weights fetch torchvision:mobilenet_v2.IMAGENET1K_V1\n`,
    );
  });

  it('a name and model options contradict: usage error', async () => {
    const r = await run('classify', PHOTO, '--model', 'torchvision:mobilenet_v2', '--width', '0.5');
    expect(r.code).toBe(2);
    expect(r.err).toContain('option --width: expected no model options with a pretrained name');
  });
});

describe('hf-hub names in the CLI', () => {
  const labels = Array.from({ length: 10 }, (_, i) => `label ${i}`);
  const config = {
    architecture: 'mobilenetv3_small_050',
    num_classes: 10,
    label_names: labels,
    pretrained_cfg: { input_size: [3, 96, 96], crop_pct: 0.875, interpolation: 'bicubic', license: 'apache-2.0' },
  };
  const repo = 'someone/mobilenetv3_small_050.ft10';
  const name = `hf-hub:${repo}`;
  beforeAll(() => {
    hub.repo(repo, {
      'config.json': new TextEncoder().encode(JSON.stringify(config)),
      'model.safetensors': readFileSync(TIMM),
    });
  });

  it('weights fetch, then export with no --arch: the file records the name, URL, sha256, license, categories, preprocessing', async () => {
    const f = await run('weights', 'fetch', name);
    expect(f.code, f.err).toBe(0);
    const sha = sha256(readFileSync(TIMM));
    expect(f.err).toMatch(
      new RegExp(
        `mobilenet weights fetch: ${name.replace(/[.]/g, '\\.')}: fetched, sha256 ${sha} verified: .*/models--someone--mobilenetv3_small_050\\.ft10/snapshots/[0-9a-f]{40}/model\\.safetensors\\n$`,
      ),
    );
    const listed = await run('weights', 'list', '--json');
    expect(JSON.parse(listed.out).length).toBeGreaterThan(30);
    const out = join(dir, 'ft10.onnx');
    const before = hub.log.length;
    const e = await run('export', '--weights', name, '-o', out, '--offline');
    expect(e.code, e.err).toBe(0);
    expect(hub.log.length).toBe(before);
    expect(e.err).toContain(`weights: ${name} (v3-small width 0.5, convention timm, 10 classes)`);
    const meta = summarizeOnnx(readFileSync(out), out).metadata;
    expect(JSON.parse(meta['mobilenet.weights']!)).toEqual({
      name,
      url: `${hub.url}/${repo}/resolve/main/model.safetensors`,
      sha256: sha,
      license: 'apache-2.0',
      categories: 'label_names (10)',
    });
    expect(JSON.parse(meta['mobilenet.preprocessing']!)).toEqual({
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
      resizeMode: 'crop',
      resize: 109,
      size: 96,
      interpolation: 'bicubic',
    });
    expect(JSON.parse(meta['mobilenet.config']!).weights).toBe('trained');
    // The file classifies with the repository's label names, and says nothing about seeded weights.
    const c = await run('classify', PHOTO, '--model', out, '--top', '2', '--json');
    expect(c.code, c.err).toBe(0);
    expect(c.err).toBe('');
    expect(
      JSON.parse(c.out)[0]
        .top.map((p: { label: string }) => p.label)
        .every((l: string) => labels.includes(l)),
    ).toBe(true);
    // The same through the name, and embed/profile take names too.
    const n = await run('classify', PHOTO, '--model', name, '--top', '2', '--json');
    expect(JSON.parse(n.out)[0].top).toEqual(JSON.parse(c.out)[0].top);
    const emb = await run('embed', PHOTO, '--model', name, '-o', join(dir, 'emb.npy'));
    expect(emb.code, emb.err).toBe(0);
    const p = await run('profile', name, '--runs', '1', '--json');
    expect(p.code, p.err).toBe(0);
  });

  it('an architecture we do not build is refused by name', async () => {
    hub.repo('timm/efficientnet_b0.ra_in1k', {
      'config.json': new TextEncoder().encode('{"architecture": "efficientnet_b0"}'),
      'model.safetensors': new Uint8Array(8),
    });
    const r = await run('export', '--weights', 'hf-hub:timm/efficientnet_b0.ra_in1k', '-o', join(dir, 'x.onnx'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^mobilenet export: hf-hub:timm\/efficientnet_b0.ra_in1k config.json: architecture: expected one of the timm architectures we build: mobilenetv1_100, .* received 'efficientnet_b0'\n$/,
    );
  });
});
