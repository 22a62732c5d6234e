// Pretrained names in runtime-web (run in Node: its fetch and WebCrypto are the browser's APIs; Cache Storage is a
// stand-in with the same three methods), against the local hub: verified, cached, built in the page, equal to
// runtime-node's model for the same name.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TORCHVISION_WEIGHTS, buildModel, registerTorchvisionWeights, writeSafetensors } from '@mobilenet/core';
import { loadPretrained as loadNode } from '@mobilenet/runtime-node';
import { maxAbs, maxAbsDiff } from '@mobilenet/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formulaFill } from '@mobilenet/core/testing';
import { type FakeHub, startFakeHub } from '@mobilenet/test-support/fake-hub';
import { type WebHubOptions, createSession, loadPretrained } from './index.js';

const TIMM = join(import.meta.dirname, '../../core/test/fixtures/timm/mobilenetv3_small_050.safetensors');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const dir = mkdtempSync(join(tmpdir(), 'mobilenet-web-pretrained-'));
let hub: FakeHub;
beforeAll(async () => {
  hub = await startFakeHub();
});
afterAll(async () => {
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Cache Storage's open/match/put/delete over a Map, as the page's `caches` would keep them. */
function memoryCaches() {
  const store = new Map<string, Uint8Array>();
  const cache = {
    match: async (url: string) =>
      store.has(url) ? new Response(store.get(url)! as Uint8Array<ArrayBuffer>) : undefined,
    put: async (url: string, res: Response) => void store.set(url, new Uint8Array(await res.arrayBuffer())),
    delete: async (url: string) => store.delete(url),
  };
  return { store, storage: { open: async () => cache as unknown as Cache } };
}

const config = {
  architecture: 'mobilenetv3_small_050',
  num_classes: 10,
  pretrained_cfg: { input_size: [3, 96, 96], crop_pct: 0.875, interpolation: 'bicubic' },
};

describe('runtime-web: pretrained names', () => {
  it('hf-hub: the tree API gives the hashes; verified, cached, the same model as runtime-node builds; offline from the cache', async () => {
    const weights = readFileSync(TIMM);
    hub.repo('someone/small-web', {
      'config.json': new TextEncoder().encode(JSON.stringify(config)),
      'model.safetensors': weights,
    });
    const { store, storage } = memoryCaches();
    const o: WebHubOptions = { hfEndpoint: hub.url, cacheStorage: storage };
    const m = await loadPretrained('hf-hub:someone/small-web', {}, o);
    expect(m.config).toMatchObject({ arch: 'v3-small', width: 0.5, resolution: 96, classes: 10 });
    expect(m.weights).toEqual({
      name: 'hf-hub:someone/small-web',
      url: `${hub.url}/someone/small-web/resolve/main/model.safetensors`,
      sha256: sha256(weights),
      fromCache: false,
    });
    expect([...store.keys()].sort()).toEqual([
      `${hub.url}/api/models/someone/small-web/tree/main`,
      `${hub.url}/someone/small-web/resolve/main/config.json`,
      `${hub.url}/someone/small-web/resolve/main/model.safetensors`,
    ]);
    const before = hub.log.length;
    const again = await loadPretrained('hf-hub:someone/small-web', {}, { ...o, offline: true });
    expect(again.weights.fromCache).toBe(true);
    expect(hub.log.length).toBe(before);
    const home = join(dir, 'node');
    const node = await loadNode('hf-hub:someone/small-web', {}, { env: { HF_HOME: home, HF_ENDPOINT: hub.url } });
    expect(m.graph.metadata).toEqual(node.graph.metadata);
    const web = await createSession(m);
    const x = new Float32Array(3 * 96 * 96).map((_, i) => Math.sin(i * 0.01));
    const ref = await (await import('@mobilenet/runtime-node')).createSession(node);
    const [a, b] = [await web.logits(x, 1), await ref.logits(x, 1)];
    expect(maxAbsDiff(a, b) / maxAbs(b)).toBeLessThan(1e-5);
    await Promise.all([web.release(), ref.release()]);
  });

  it("torchvision: createSession(name) builds in the page with the weights' preprocessing; wrong bytes are refused and not cached", async () => {
    const { graph } = buildModel({
      arch: 'v3-small',
      convention: 'torchvision',
      resolution: 224,
      weights: formulaFill,
    });
    const bytes = writeSafetensors(
      Object.fromEntries(
        graph.initializers
          .filter((i) => /^(features|classifier)\./.test(i.name))
          .map((i) => [
            i.name,
            { dtype: 'F32' as const, shape: i.dims, bytes: new Uint8Array((i.data as Float32Array).buffer) },
          ]),
      ),
    );
    const file = `mobilenet_v3_small-${sha256(bytes).slice(0, 8)}.pth`;
    hub.torchvision(file, bytes);
    const row = TORCHVISION_WEIGHTS.find((w) => w.model === 'mobilenet_v3_small')!;
    const unregister = registerTorchvisionWeights({ ...row, file });
    try {
      const { store, storage } = memoryCaches();
      const session = await createSession('torchvision:mobilenet_v3_small', {
        hub: { torchvisionUrl: `${hub.url}/models`, cacheStorage: storage },
      });
      expect(session.info.preprocessing).toMatchObject({ resize: 256, size: 224 });
      expect(session.info.labels[0]).toBe('tench');
      expect([...store.keys()]).toEqual([`${hub.url}/models/${file}`]);
      await session.release();
    } finally {
      unregister();
    }
    hub.torchvision(row.file, bytes);
    const { store, storage } = memoryCaches();
    await expect(
      loadPretrained(
        'torchvision:mobilenet_v3_small',
        {},
        { torchvisionUrl: `${hub.url}/models`, cacheStorage: storage },
      ),
    ).rejects.toThrow(
      `weights 'torchvision:mobilenet_v3_small.IMAGENET1K_V1': expected the bytes of ${hub.url}/models/${row.file}: sha256 047dcff4... (the file name's), received ${sha256(bytes)}, received others; nothing was cached`,
    );
    expect(store.size).toBe(0);
  });

  it('a network failure says it may be CORS', async () => {
    await expect(
      loadPretrained('torchvision:mobilenet_v2', {}, { torchvisionUrl: 'http://127.0.0.1:9/models' }),
    ).rejects.toThrow(
      /expected an answer from 127.0.0.1:9, received a network failure \(fetch failed\): no network, or the host does not allow this page \(CORS\)/,
    );
  });
});
