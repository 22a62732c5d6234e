// One cache with Python, both ways, proved with Python's own code: torch.hub (Debian's python3-torch) and
// huggingface_hub 0.26.5 (its public source; HF_HUB_SRC names the folder that holds huggingface_hub/). Each side
// downloads from the local hub, and the other reads the file with no network.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipUnless } from '@mobilenet/test-support';
import { type FakeHub, cdnPath, startFakeHub } from '@mobilenet/test-support/fake-hub';
import { resolveWeights } from './index.js';

const PYTHON = process.env.MOBILENET_PYTHON ?? '/usr/bin/python3';
const HF_HUB_SRC = process.env.HF_HUB_SRC;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const dir = mkdtempSync(join(tmpdir(), 'mobilenet-pycache-'));
let hub: FakeHub;
beforeAll(async () => {
  hub = await startFakeHub();
});
afterAll(async () => {
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs Python without blocking this process: the local hub answers from this event loop. */
function python(code: string, env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-c', code], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: dir,
        HF_HUB_DISABLE_TELEMETRY: '1',
        HF_HUB_DISABLE_PROGRESS_BARS: '1',
        ...env,
      },
      timeout: 120_000,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => void (out += d));
    child.stderr.on('data', (d) => void (err += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out.trim()) : reject(new Error(`python failed (${code}): ${err}`)),
    );
  });
}
const can = (code: string, env: Record<string, string> = {}): string | null => {
  const r = spawnSync(PYTHON, ['-c', code], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env } });
  return r.status === 0 ? null : `${PYTHON}: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`;
};

const torchSkip = skipUnless('torch.hub (python3-torch)', can('import torch.hub'));
// huggingface_hub is not a CI dependency (Debian has no package); an HF_HUB_SRC that is set must work.
const hfSkip = (() => {
  if (!HF_HUB_SRC) return 'huggingface_hub unavailable: set HF_HUB_SRC to the src/ folder of huggingface_hub v0.26.5';
  return skipUnless(
    'huggingface_hub (HF_HUB_SRC)',
    can('import huggingface_hub', { PYTHONPATH: HF_HUB_SRC }),
    Boolean(process.env.CI),
  );
})();

/** A real torch.save file (torch.hub's load_state_dict_from_url loads what it finds), named with its sha256 prefix. */
async function torchFile(name: string): Promise<{ file: string; bytes: Uint8Array }> {
  const path = join(dir, `${name}.pth`);
  await python(`import torch; torch.save({'w': torch.arange(10.0) * ${name.length}}, ${JSON.stringify(path)})`);
  const bytes = readFileSync(path);
  return { file: `${name}-${sha256(bytes).slice(0, 10)}.pth`, bytes };
}

describe('torch.hub and us share $TORCH_HOME/hub/checkpoints', () => {
  it.skipIf(torchSkip !== null)(
    `torch.hub.load_state_dict_from_url finds what we downloaded, and we find what it downloaded, offline ${torchSkip ?? ''}`,
    async () => {
      const ours = await torchFile('ours');
      hub.torchvision(ours.file, ours.bytes);
      const torchHome = join(dir, 'torch');
      await resolveWeights(`${hub.url}/models/${ours.file}`, { env: { TORCH_HOME: torchHome } });
      // A URL on a closed port: torch.hub can only succeed from its cache.
      const w = await python(
        `import torch.hub; print(torch.hub.load_state_dict_from_url('http://127.0.0.1:9/models/${ours.file}', check_hash=True)['w'].tolist())`,
        { TORCH_HOME: torchHome },
      );
      expect(w).toBe(
        JSON.stringify(Array.from({ length: 10 }, (_, i) => i * 4))
          .replaceAll(',', ', ')
          .replace(/(\d+)/g, '$1.0'),
      );
      const theirs = await torchFile('theirs');
      hub.torchvision(theirs.file, theirs.bytes);
      const home2 = join(dir, 'torch2');
      await python(
        `import torch.hub; torch.hub.load_state_dict_from_url('${hub.url}/models/${theirs.file}', check_hash=True, progress=False)`,
        { TORCH_HOME: home2 },
      );
      const before = hub.log.length;
      const r = await resolveWeights(`${hub.url}/models/${theirs.file}`, { env: { TORCH_HOME: home2 }, offline: true });
      expect(r).toMatchObject({
        downloaded: false,
        sha256: sha256(theirs.bytes),
        path: join(home2, 'hub', 'checkpoints', theirs.file),
      });
      expect(hub.log.length).toBe(before);
    },
  );
});

describe('huggingface_hub and us share one cache', () => {
  const repoFiles = (tag: string) => {
    const config = JSON.stringify({
      architecture: 'mobilenetv3_small_050',
      num_classes: 10,
      pretrained_cfg: { input_size: [3, 96, 96], tag },
    });
    const weights = new Uint8Array(300_000).map((_, i) => (i * 31 + tag.length) % 253);
    return { 'config.json': new TextEncoder().encode(config), 'model.safetensors': weights };
  };

  it.skipIf(hfSkip !== null)(
    `hf_hub_download(local_files_only=True) reads what we cached; we read, offline, what it cached; it resumes our partial file ${hfSkip ?? ''}`,
    async () => {
      const cache = join(dir, 'hf1');
      const ours = repoFiles('ours');
      const commit = hub.repo('timm/ours', ours);
      await resolveWeights('hf-hub:timm/ours', { env: { HF_HUB_CACHE: cache, HF_ENDPOINT: hub.url } });
      const read = await python(
        `from huggingface_hub import hf_hub_download, try_to_load_from_cache
import hashlib, json
p = hf_hub_download('timm/ours', 'model.safetensors', cache_dir=${JSON.stringify(cache)}, local_files_only=True)
c = hf_hub_download('timm/ours', 'config.json', cache_dir=${JSON.stringify(cache)}, local_files_only=True)
print(json.dumps([p, hashlib.sha256(open(p, 'rb').read()).hexdigest(), json.load(open(c))['pretrained_cfg']['tag'], try_to_load_from_cache('timm/ours', 'model.safetensors', cache_dir=${JSON.stringify(cache)})]))`,
        { PYTHONPATH: HF_HUB_SRC!, HF_HUB_OFFLINE: '1' },
      );
      const [path, sha, tag, cached] = JSON.parse(read);
      expect(path).toBe(join(cache, 'models--timm--ours', 'snapshots', commit, 'model.safetensors'));
      expect(sha).toBe(sha256(ours['model.safetensors']));
      expect(tag).toBe('ours');
      expect(cached).toBe(path);

      const cache2 = join(dir, 'hf2');
      const theirs = repoFiles('theirs');
      hub.repo('timm/theirs', theirs);
      await python(
        `from huggingface_hub import hf_hub_download
for f in ('config.json', 'model.safetensors'): hf_hub_download('timm/theirs', f, cache_dir=${JSON.stringify(cache2)})`,
        { PYTHONPATH: HF_HUB_SRC!, HF_ENDPOINT: hub.url },
      );
      const before = hub.log.length;
      const r = await resolveWeights('hf-hub:timm/theirs', { env: { HF_HUB_CACHE: cache2 }, offline: true });
      expect(r).toMatchObject({ downloaded: false, sha256: sha256(theirs['model.safetensors']) });
      expect(hub.log.length).toBe(before);

      // A partial download of ours (a crash), resumed by huggingface_hub with a Range request.
      const cache3 = join(dir, 'hf3');
      const part = repoFiles('partial');
      hub.repo('timm/partial', part);
      const blobs = join(cache3, 'models--timm--partial', 'blobs');
      mkdirSync(blobs, { recursive: true });
      writeFileSync(
        join(blobs, `${sha256(part['model.safetensors'])}.incomplete`),
        part['model.safetensors'].subarray(0, 100_000),
      );
      await python(
        `from huggingface_hub import hf_hub_download; hf_hub_download('timm/partial', 'model.safetensors', cache_dir=${JSON.stringify(cache3)})`,
        {
          PYTHONPATH: HF_HUB_SRC!,
          HF_ENDPOINT: hub.url,
        },
      );
      expect(hub.log.filter((l) => l.path === cdnPath(part['model.safetensors'])).map((l) => l.range)).toEqual([
        'bytes=100000-',
      ]);
    },
  );
});
