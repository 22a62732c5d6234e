// Fuzzing the readers of files the CLI resumes or reuses (issue 23): JSON-lines OUT, .npy and .safetensors matrices,
// calibration caches. Each mutated file is taken or refused with our message naming it, within the time bound, and
// a refused file is left byte for byte as it was. `pnpm fuzz` runs 10,000 cases per reader (FUZZ_RUNS).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Graph, MobileNetError, buildModel, fanInFill, quotePath } from '@mobilenet/core';
import { FileError } from '@mobilenet/runtime-node';
import { RUNS, checkAsync, mutated } from '@mobilenet/test-support/fuzz';
import { calibrate } from '@mobilenet/tools';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCalibrationCache } from '../calibration-cache.js';
import { type JsonlHeader, JsonlSink } from '../collection.js';
import { UsageError } from '../errors.js';
import { MatrixWriter } from '../matrix-file.js';
import { ROOT, run } from '../../test/testing.js';

const TIMEOUT = Math.max(120_000, RUNS * 40);
const dir = mkdtempSync(join(tmpdir(), 'mobilenet-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FIX = join(ROOT, 'packages/runtime-node/test/fixtures');
const tiny = ['--arch', 'v3-small', '--convention', 'torchvision', '--resolution', '32', '--width', '0.35'];

/**
 * Writes `bytes` to `path`, runs `read` on it, and sorts the outcome: taken, or refused by an error of ours that
 * names the file and left it unchanged. Anything else (a TypeError, an unnamed message, a changed file) fails.
 */
async function takenOrRefused(path: string, bytes: Uint8Array, read: () => unknown): Promise<'accepted' | 'refused'> {
  writeFileSync(path, bytes);
  try {
    await read();
    return 'accepted';
  } catch (e) {
    const ours =
      e instanceof MobileNetError || e instanceof FileError || e instanceof UsageError || e?.constructor === Error;
    if (!ours) throw new Error(`not our error: ${(e as Error)?.name}: ${(e as Error)?.message?.slice(0, 300)}`);
    const message = (e as Error).message;
    if (!message.includes(quotePath(path))) throw new Error(`does not name the file: ${message.slice(0, 300)}`);
    if (message.includes('\n')) throw new Error(`a message of several lines: ${message.slice(0, 300)}`);
    if (!readFileSync(path).equals(bytes)) throw new Error(`a refused file was changed: ${message.slice(0, 300)}`);
    return 'refused';
  }
}

let jsonlSeed: Buffer;
let header: JsonlHeader;
beforeAll(async () => {
  const out = join(dir, 'seed.jsonl');
  const r = await run(
    'classify',
    join(FIX, 'scene.jpg'),
    join(FIX, 'tall.png'),
    join(FIX, 'truncated.jpg'),
    ...tiny,
    '--jsonl',
    out,
  );
  expect(r.code, r.err).toBe(1);
  jsonlSeed = readFileSync(out);
  header = JSON.parse(jsonlSeed.toString('utf8').split('\n')[0]!) as JsonlHeader;
}, 120_000);

describe('JSON-lines OUT to resume', () => {
  it(
    `${RUNS} mutated files: resumed or refused by name, a refused file untouched`,
    async () => {
      const path = join(dir, 'out.jsonl');
      await checkAsync('jsonl resume', mutated([jsonlSeed], 4096), (bytes) =>
        takenOrRefused(path, bytes, async () => {
          const sink = await JsonlSink.open(path, { force: false, resume: true }, header);
          sink.close();
          // What was taken is ours: its first line is a header of this format, model and top-k.
          const first = JSON.parse(readFileSync(path, 'utf8').split('\n')[0]!) as JsonlHeader;
          expect([first.format, first.model.sha256, first.top]).toEqual([
            header.format,
            header.model.sha256,
            header.top,
          ]);
        }),
      );
    },
    TIMEOUT,
  );
});

describe('.npy and .safetensors headers to resume', () => {
  for (const format of ['npy', 'safetensors'] as const) {
    it(
      `${RUNS} mutated ${format} files: resumed or refused by name, a refused file untouched`,
      async () => {
        const seed = join(dir, `seed.${format}`);
        const m = new MatrixWriter(seed, format, false, '-o');
        m.append([Float32Array.of(1, 2, 3, 4), Float32Array.of(5, 6, 7, 8)]);
        m.close();
        const path = join(dir, `out.${format}`);
        await checkAsync(`${format} resume`, mutated([readFileSync(seed)], 512), (bytes) =>
          takenOrRefused(path, bytes, () => {
            const w = new MatrixWriter(path, format, true, '-o');
            // A header taken is one whose rows the file holds.
            expect(w.count * 4 * 4).toBeLessThanOrEqual(bytes.length);
            w.close();
          }),
        );
      },
      TIMEOUT,
    );
  }
});

describe('calibration caches', () => {
  let graph: Graph;
  let cache: Buffer;
  beforeAll(async () => {
    graph = buildModel({
      arch: 'v3-small',
      convention: 'torchvision',
      resolution: 32,
      width: 0.35,
      weights: fanInFill(1),
    }).graph;
    const images = join(dir, 'calib');
    mkdirSync(images);
    writeFileSync(join(images, 'a.jpg'), readFileSync(join(FIX, 'scene.jpg')));
    const { ranges } = await calibrate(graph, images, { minimum: 1 });
    cache = Buffer.from(JSON.stringify(ranges, null, 1));
  }, 120_000);

  it(
    `${RUNS} mutated caches (bytes): taken for this model or refused by name`,
    async () => {
      const path = join(dir, 'ranges.json');
      await checkAsync('calibration cache bytes', mutated([cache], 1 << 20), (bytes) =>
        takenOrRefused(path, bytes, () => readCalibrationCache(path, graph)),
      );
    },
    TIMEOUT,
  );

  it(
    `${RUNS} caches with a value replaced by any JSON: taken only when every range is sound`,
    async () => {
      const path = join(dir, 'ranges-json.json');
      const parsed = JSON.parse(cache.toString());
      const names = Object.keys(parsed.ranges);
      const place = fc.oneof(
        fc.record({
          tensor: fc.nat({ max: names.length - 1 }),
          key: fc.constantFrom('min', 'max'),
          value: fc.jsonValue(),
        }),
        fc.record({
          top: fc.constantFrom('format', 'model', 'method', 'percentile', 'images', 'ranges'),
          value: fc.jsonValue(),
        }),
      );
      await checkAsync('calibration cache values', place, (p) => {
        const c = structuredClone(parsed);
        if ('top' in p) c[p.top] = p.value;
        else c.ranges[names[p.tensor]!][p.key] = p.value;
        return takenOrRefused(path, Buffer.from(JSON.stringify(c)), () => {
          const r = readCalibrationCache(path, graph);
          for (const { min, max } of Object.values(r.ranges))
            expect(Number.isFinite(min) && Number.isFinite(max) && min <= max).toBe(true);
        });
      });
    },
    TIMEOUT,
  );
});
