// Measurement (not a test): does decoding on a Web Worker raise a page's end-to-end images/s? In headless Chromium,
// a folder of JPEGs through classifyAll with decoding on the page's thread and on one worker, against the model
// alone on ready tensors; the three alternate round by round (paired, interleaved), as the machine may be shared.
// Usage: tsx --conditions=source apps/bench/scripts/web/pipeline-worker.ts [--archs v2,v3-small]
//        [--threads 1,2] [--images 64] [--batch 8] [--rounds 3] [--decode exact|resize-on-decode]
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type Arch, torchvisionPreprocessing } from '@mobilenet/core';
// runtime-web's e2e harness page: its stages() and throughput() are this measurement's.
import { openHarness } from '@mobilenet/runtime-web/harness';
import { median } from '../../src/shared/stats.js';

const { values } = parseArgs({
  options: {
    archs: { type: 'string', default: 'v2,v3-small' },
    threads: { type: 'string', default: '1,2' },
    images: { type: 'string', default: '64' },
    batch: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    decode: { type: 'string', default: 'exact' },
  },
});
const ROOT = resolve(import.meta.dirname, '../../../..');
// The bench's generator: 640x480 JPEGs cut from skimage's photographs (apps/bench/src/pipeline.py).
const DIR = join(ROOT, 'apps/bench/.cache/web-pipeline');
const count = Number(values.images);
const list = () =>
  existsSync(DIR)
    ? readdirSync(DIR)
        .filter((f) => f.startsWith('small-'))
        .sort()
    : [];
if (list().length < count)
  execFileSync('/usr/bin/python3', [join(ROOT, 'apps/bench/src/pipeline.py'), 'generate', DIR, String(count), '0'], {
    stdio: 'inherit',
  });
const images = list()
  .slice(0, count)
  .map((f) => ({ name: f, base64: readFileSync(join(DIR, f)).toString('base64') }));

const h = await openHarness();
try {
  const st = await h.call<Record<string, number>>('stages', [images, torchvisionPreprocessing(224)]);
  console.log(
    `per 640x480 JPEG, median ms: createImageBitmap ${st.decode!.toFixed(2)} (off the page's thread), draw + getImageData ${st.readback!.toFixed(2)}, preprocess ${st.preprocess!.toFixed(2)} (on it)`,
  );
  for (const threads of values.threads.split(',').map(Number)) {
    await h.reload();
    for (const arch of values.archs.split(',') as Arch[]) {
      const r = await h.call<{ threads: number; images: number; ms: Record<'model' | 'main' | 'worker', number[]> }>(
        'throughput',
        [
          images,
          { arch, resolution: 224, seed: 0, threads },
          values.decode,
          Number(values.batch),
          Number(values.rounds),
        ],
        600_000,
      );
      const ips = (k: 'model' | 'main' | 'worker') => (1000 * r.images) / median(r.ms[k]);
      const pairs = r.ms.main.map((m, i) => m / r.ms.worker[i]!);
      console.log(
        `${arch} 224, ${r.threads} WASM thread(s), batch ${values.batch}, ${values.decode}: model alone ${ips('model').toFixed(1)} img/s; ` +
          `classifyAll decode on page ${ips('main').toFixed(1)} img/s (${((100 * ips('main')) / ips('model')).toFixed(0)}%), ` +
          `on a worker ${ips('worker').toFixed(1)} img/s (${((100 * ips('worker')) / ips('model')).toFixed(0)}%); ` +
          `page/worker time per round ${pairs.map((p) => p.toFixed(2)).join(' ')}`,
      );
    }
  }
} finally {
  await h.close();
}
