// Hostile input, round 2 (issue 23): every class of the probe, through the command. Each case must be answered
// within seconds with a message naming the file and the limit, leave the user's files as they were, and exit as the
// README says (1 a bad file, 2 a usage mistake). The hostile files are generated here, none is committed: a FIFO
// made with mkfifo, links to /dev/zero, sparse files, hand-written ONNX and image headers.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { type Graph, buildModel, fanInFill, toOnnx } from '@mobilenet/core';
import { handOnnx, manyScanJpeg, svgEmbeddingPng } from '@mobilenet/test-support/hostile';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ROOT, cleanTmp, run, runMeasured, tmp } from '../test/testing.js';

afterAll(cleanTmp);
const FIX = join(ROOT, 'packages/runtime-node/test/fixtures');
const tiny = ['--arch', 'v3-small', '--convention', 'torchvision', '--resolution', '32', '--width', '0.35'];
/** Within this each refusal must come, on a loaded 2-core machine; alone they take milliseconds. */
const QUICK_MS = 5000;
const GB = 2 ** 30;

// A regression that blocks a read on a FIFO would hold a thread of the pool after the test times out: a writer
// opening and closing each FIFO ends such a read.
const fifos: string[] = [];
afterEach(() => {
  for (const f of fifos.splice(0)) {
    try {
      closeSync(openSync(f, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // ENXIO: no reader, as expected
    }
  }
});

function mkfifo(path: string): boolean {
  const made = spawnSync('mkfifo', [path]);
  if (made.status === 0) {
    fifos.push(path);
    return true;
  }
  if (process.env.CI) throw new Error(`mkfifo failed in CI: ${made.stderr}`);
  console.warn(`skipped FIFO cases: mkfifo failed (${made.error?.message ?? made.stderr})`);
  return false;
}

/** Runs the command in this process, and checks it answered within QUICK_MS with this process under 1 GB. */
async function quick(...argv: string[]) {
  const t0 = performance.now();
  const r = await run(...argv);
  const ms = performance.now() - t0;
  expect(ms, `${argv.join(' ')} took ${ms.toFixed(0)} ms`).toBeLessThan(QUICK_MS);
  expect(process.memoryUsage().rss).toBeLessThan(GB);
  return { ...r, ms };
}

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/**
 * A model whose classifier bias is NaN: our writer refuses non-finite weights, so the bias is written as a marker
 * value and the marker's bytes replaced in the file, as a hostile or broken file would hold them.
 */
function nanBiasModel(): Uint8Array {
  const marker = Math.fround(1234.5678);
  const bytes = Buffer.from(
    variant((g) => ({
      ...g,
      initializers: g.initializers.map((i) =>
        /classifier\.\d+\.bias$/.test(i.name) ? { ...i, data: new Float32Array(i.data!.length).fill(marker) } : i,
      ),
    })),
  );
  const one = Buffer.from(Float32Array.of(marker).buffer);
  const nan = Buffer.from(Float32Array.of(Number.NaN).buffer);
  for (let at = bytes.indexOf(one); at >= 0; at = bytes.indexOf(one, at + 4)) nan.copy(bytes, at);
  return bytes;
}

/** A folder of special files with image names: a FIFO (where mkfifo works), /dev/zero and /dev/urandom by links. */
function specialFolder(): { dir: string; names: [string, string][] } {
  const dir = tmp();
  copyFileSync(join(FIX, 'scene.jpg'), join(dir, 'a-good.jpg'));
  const names: [string, string][] = [];
  if (mkfifo(join(dir, 'b-fifo.jpg'))) names.push([join(dir, 'b-fifo.jpg'), 'a FIFO (named pipe)']);
  symlinkSync('/dev/zero', join(dir, 'c-zero.png'));
  symlinkSync('/dev/urandom', join(dir, 'd-random.webp'));
  names.push([join(dir, 'c-zero.png'), 'a character device'], [join(dir, 'd-random.webp'), 'a character device']);
  return { dir, names };
}

let model: string | undefined;
/** A small model file of ours (exported once per test file). */
async function modelFile(): Promise<string> {
  if (model) return model;
  const file = join(tmp(), 'm.onnx');
  expect((await run('export', ...tiny, '-o', file)).code).toBe(0);
  model = file;
  return file;
}

describe('special files are refused by kind, never read', () => {
  it('as images: named on the command line or inside a folder, each named, the good one answered', async () => {
    const { dir, names } = specialFolder();
    const m = await modelFile();
    for (const args of [[dir], [join(dir, 'a-good.jpg'), ...names.map(([p]) => p)]]) {
      const r = await quick('classify', ...args, '--model', m, '--json');
      expect(r.code, r.err).toBe(1);
      const results = JSON.parse(r.out) as { image: string; ok: boolean; error?: string }[];
      expect(results[0]!.ok).toBe(true);
      expect(results.slice(1).map((x) => x.error)).toEqual(
        names.map(([p, kind]) => `${p}: is ${kind}; expected an image file (a regular file)`),
      );
    }
  }, 60_000);

  it('/dev/zero in a folder stays under 1 GB (it grew to 5-8 GB in 40 s); measured in a process of its own', async () => {
    const dir = tmp();
    symlinkSync('/dev/zero', join(dir, 'zero.jpg'));
    const t0 = performance.now();
    const r = await runMeasured(['classify', dir, ...tiny]);
    console.log(
      `/dev/zero as an image: exit ${r.code}, peak RSS ${(r.peakRss / 2 ** 20).toFixed(0)} MiB, ${((performance.now() - t0) / 1000).toFixed(1)} s with start-up`,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(dir, 'zero.jpg')}: is a character device; expected an image file`);
    expect(r.peakRss).toBeLessThan(GB);
  }, 120_000);

  it('as --model, --weights, --calibration-cache, compare models and the profile model: exit 2 naming the option', async () => {
    const { dir, names } = specialFolder();
    const out = join(tmp(), 'x.onnx');
    for (const [path, kind] of names) {
      const expected = `is ${kind}; expected`;
      const cases: [string[], string][] = [
        [['classify', join(dir, 'a-good.jpg'), '--model', path], 'option --model:'],
        [['embed', dir, '--model', path, '-o', join(tmp(), 'e.npy')], 'option --model:'],
        [['export', ...tiny, '--weights', path, '-o', out], 'option --weights:'],
        [
          ['export', ...tiny, '--precision', 'int8', '--calibration-cache', path, '-o', out],
          'option --calibration-cache:',
        ],
        [['compare', path, await modelFile(), '--images', dir], 'option argument REF:'],
        [['compare', await modelFile(), path, '--images', dir], 'option argument CANDIDATE:'],
        [['profile', path], 'option argument FILE:'],
        [['info', path], ''],
      ];
      for (const [argv, option] of cases) {
        const r = await quick(...argv);
        expect([r.code, r.err], argv.join(' ')).toEqual([
          2,
          expect.stringContaining(`${option} '${path}' ${expected}`),
        ]);
      }
    }
    expect(existsSync(out)).toBe(false);
  }, 120_000);

  it('inside compare --images and profile --images: named as skipped, the rest measured', async () => {
    const { dir, names } = specialFolder();
    const m = await modelFile();
    const c = await quick('compare', m, m, '--images', dir);
    expect(c.code, c.err).toBe(0);
    expect(c.out).toContain('over 1 images');
    for (const [p, kind] of names)
      expect(c.err).toContain(`compare: skipped '${p}': is ${kind}; expected an image file`);
    const p = await run('profile', m, '--runs', '1', '--images', dir);
    expect(p.code, p.err).toBe(0);
  }, 60_000);

  it('a sparse 3 GB file given as an image, a model or a calibration cache is refused from its size', async () => {
    const dir = tmp();
    const big = join(dir, 'big.jpg');
    writeFileSync(big, '');
    truncateSync(big, 3 * GB);
    const r = await quick('classify', big, ...tiny);
    expect(r.err).toContain(`${big}: is 3221225472 bytes, more than the 300000000 allowed for an image file`);
    const cache = join(dir, 'ranges.json');
    writeFileSync(cache, '');
    truncateSync(cache, 65 * 2 ** 20);
    const c = await quick(
      'export',
      ...tiny,
      '--precision',
      'int8',
      '--calibration-cache',
      cache,
      '-o',
      join(dir, 'x.onnx'),
    );
    expect([c.code, c.err]).toEqual([
      1,
      `mobilenet export: option --calibration-cache: '${cache}' is 68157440 bytes, more than the 67108864 allowed for a calibration cache (.json)\n`,
    ]);
  });
});

describe('images that escape the pixel cap', () => {
  it('an SVG embedding a 20000x20000 PNG, and a 3000-scan progressive JPEG, are refused by name within seconds', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'a.svg.png'), svgEmbeddingPng(20000, 20000));
    writeFileSync(join(dir, 'b.jpg'), manyScanJpeg(10000, 9999, 3000));
    const r = await quick('classify', dir, ...tiny, '--json');
    expect(r.code).toBe(1);
    expect((JSON.parse(r.out) as { error: string }[]).map((x) => x.error)).toEqual([
      `${join(dir, 'a.svg.png')}: cannot decode: SVG or other XML/HTML text is not decoded (decoded: JPEG, PNG, WebP, GIF, TIFF, AVIF/HEIF)`,
      `${join(dir, 'b.jpg')}: JPEG 10000x9999: 3000 scans, more than the 100 allowed (each scan is a pass over the image)`,
    ]);
  }, 60_000);
});

/** A graph with its metadata or its weights changed, as a hostile file would have them. */
function variant(change: (g: Graph) => Graph): Uint8Array {
  const { graph } = buildModel({
    arch: 'v3-small',
    convention: 'torchvision',
    resolution: 32,
    width: 0.35,
    weights: fanInFill(1),
  });
  return toOnnx(change(graph));
}
const withPre = (pre: unknown) =>
  variant((g) => ({
    ...g,
    metadata: { ...g.metadata, 'mobilenet.preprocessing': typeof pre === 'string' ? pre : JSON.stringify(pre) },
  }));
const PRE = JSON.parse(
  buildModel({ arch: 'v3-small', convention: 'torchvision', resolution: 32 }).graph.metadata[
    'mobilenet.preprocessing'
  ]!,
);

describe('models that run forever, print NaN, or declare too much', () => {
  it('a Loop (2^62 trips), a custom-domain op and 20001 nodes are refused before onnxruntime sees them', async () => {
    const dir = tmp();
    const loop = join(dir, 'loop.onnx');
    writeFileSync(loop, handOnnx({ nodes: [{ op: 'Loop', inputs: ['trips', '', 'input'], outputs: ['logits'] }] }));
    const custom = join(dir, 'custom.onnx');
    writeFileSync(
      custom,
      handOnnx({ nodes: [{ op: 'FusedConv', domain: 'com.microsoft', inputs: ['input'], outputs: ['logits'] }] }),
    );
    const many = join(dir, 'many.onnx');
    const nodes = Array.from({ length: 20001 }, (_, i) => ({
      op: 'Identity',
      inputs: [i ? `t${i - 1}` : 'input'],
      outputs: [i === 20000 ? 'logits' : `t${i}`],
    }));
    writeFileSync(many, handOnnx({ nodes }));
    const img = join(FIX, 'scene.jpg');
    expect((await quick('classify', img, '--model', loop)).err).toBe(
      `mobilenet classify: model '${loop}': expected only the ops of image classifiers (no control flow, no custom domains; allowAnyOp, or --allow-any-op, lifts the list), received 'Loop'\n`,
    );
    expect((await quick('embed', img, '--model', custom, '-o', join(dir, 'e.npy'))).err).toContain(
      "received 'com.microsoft:FusedConv'",
    );
    expect((await quick('profile', many)).err).toContain(
      `model '${many}': expected at most 20000 nodes (option maxNodes, or --allow-large, raises the cap), received 20001`,
    );
    expect((await quick('compare', loop, loop, '--images', dir)).code).toBe(1);
    // --allow-any-op hands the Loop to onnxruntime, which refuses this one (it has no body): named, one line.
    const any = await quick('classify', img, '--model', loop, '--allow-any-op');
    expect(any.code).toBe(1);
    expect(any.err).toMatch(
      /^mobilenet classify: model '.*loop\.onnx': expected a model onnxruntime-node can load, received [^\n]*\n$/,
    );
    expect(any.err).not.toContain('/onnxruntime_src/');
  }, 60_000);

  it('a NaN bias gives an error per image, exit 1 (it printed NaN probabilities, exit 0)', async () => {
    const file = join(tmp(), 'nan.onnx');
    writeFileSync(file, nanBiasModel());
    const r = await quick('classify', join(FIX, 'scene.jpg'), '--model', file);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${join(FIX, 'scene.jpg')}: the model's output 'logits' is not finite (NaN at index 0)`);
    expect(r.out).toBe('');
  });
});

describe('compare checks both models and streams the images', () => {
  it('bad preprocessing JSON, a std of 0, a size of 20000 and an unknown mode are refused, naming the file and key', async () => {
    const dir = tmp();
    copyFileSync(join(FIX, 'scene.jpg'), join(dir, 'a.jpg'));
    const good = await modelFile();
    const cases: [unknown, string][] = [
      ['{"mean": [', "metadata 'mobilenet.preprocessing': expected JSON, received 10 characters that do not parse"],
      [
        { ...PRE, std: [0, 1, 1] },
        "metadata 'mobilenet.preprocessing'.std: expected 3 finite numbers above 0, received a list of 3",
      ],
      [
        { ...PRE, size: 20000, resize: 20000 },
        "metadata 'mobilenet.preprocessing'.size: expected an integer from 1 to 16384, received 20000",
      ],
      [
        { ...PRE, resizeMode: 'zoom' },
        `metadata 'mobilenet.preprocessing'.resizeMode: expected 'crop' or 'squash', received "zoom"`,
      ],
    ];
    for (const [i, [pre, message]] of cases.entries()) {
      const ref = join(dir, `ref${i}.onnx`);
      writeFileSync(ref, withPre(pre));
      const r = await quick('compare', ref, good, '--images', dir);
      expect([r.code, r.err]).toEqual([1, `mobilenet compare: model '${ref}': ${message}\n`]);
    }
  }, 60_000);

  it('models of different class counts or input sizes are refused naming the candidate; a NaN candidate too', async () => {
    const dir = tmp();
    copyFileSync(join(FIX, 'scene.jpg'), join(dir, 'a.jpg'));
    const ref = await modelFile();
    const other = join(dir, 'ten.onnx');
    expect((await run('export', ...tiny, '--classes', '10', '-o', other)).code).toBe(0);
    expect((await quick('compare', ref, other, '--images', dir)).err).toBe(
      `mobilenet compare: candidate '${other}': expected classes 1000, as the reference '${ref}' has, received classes 10\n`,
    );
    const big = join(dir, 'big.onnx');
    expect((await run('export', ...tiny.slice(0, -4), '--resolution', '64', '--width', '0.35', '-o', big)).code).toBe(
      0,
    );
    expect((await quick('compare', ref, big, '--images', dir)).err).toContain(
      `candidate '${big}': expected input size 32,`,
    );
    const nan = join(dir, 'nan.onnx');
    writeFileSync(nan, nanBiasModel());
    const r = await quick('compare', ref, nan, '--images', dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`model '${nan}' on image '${join(dir, 'a.jpg')}': expected finite logits`);
    expect(r.out).not.toContain('NaN');
  }, 60_000);
});

describe('names that would break a message or the terminal', () => {
  it('a file named with ESC[2J and a newline is printed escaped; a name that is not UTF-8 reaches its file', async () => {
    const dir = tmp();
    copyFileSync(join(FIX, 'scene.jpg'), join(dir, 'x\u001b[2J\ny.jpg'));
    copyFileSync(join(FIX, 'not-an-image.jpg'), join(dir, 'z\u001b[2J\nw.jpg'));
    // A name of bytes that are not UTF-8: \xff\xfe.
    const raw = Buffer.concat([Buffer.from(`${dir}/`), Buffer.from([0xff, 0xfe]), Buffer.from('.jpg')]);
    copyFileSync(join(FIX, 'scene.jpg'), raw);
    const r = await quick('classify', dir, ...tiny);
    expect(r.code).toBe(1);
    for (const text of [r.out, r.err]) expect(text).not.toContain('\u001b');
    // Every line of stderr is a message of ours: no name broke one in two.
    for (const line of r.err.split('\n').filter(Boolean)) expect(line).toMatch(/^mobilenet classify: /);
    expect(r.err).toContain(`${dir}/z\\u001b[2J\\u000aw.jpg: cannot decode`);
    expect(r.out).toContain(`${dir}/\\xff\\xfe.jpg`);
    expect(r.out).toContain(`${dir}/x\\u001b[2J\\u000ay.jpg`);
  }, 60_000);
});

describe('litter', () => {
  it('a classify run leaves nothing in TMPDIR (onnxruntime wrote .ses and mat-debug-PID.log on every run)', async () => {
    const dir = tmp();
    const env = { ...process.env, TMPDIR: dir };
    delete (env as NodeJS.ProcessEnv).ORT_DISABLE_TELEMETRY;
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=source',
        join(ROOT, 'packages/cli/src/bin.ts'),
        'classify',
        join(FIX, 'scene.jpg'),
        ...tiny,
      ],
      { env, encoding: 'utf8', timeout: 60_000, cwd: ROOT },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(dir).filter((f) => !f.startsWith('tsx-'))).toEqual([]);
  }, 90_000);
});

describe("--resume refuses what is not its own, and never loses the user's bytes", () => {
  const jsonl = async (images: string[], out: string, extra: string[] = []) =>
    run('classify', ...images, ...tiny, '--jsonl', out, ...extra);

  it('a model file, a JSONL with a byte that is not UTF-8, one of another model, a 2 MB line: refused, untouched', async () => {
    const dir = tmp();
    const img = join(FIX, 'scene.jpg');
    // The victim: a model file named as OUT (it was replaced by JSON lines, exit 0).
    const victim = await modelFile();
    const before = sha(victim);
    const r = await quick('classify', img, ...tiny, '--jsonl', victim, '--resume');
    expect([r.code, r.err.split('\n').at(-2)]).toEqual([
      1,
      `mobilenet classify: --resume: '${victim}' is not a JSON-lines file written by mobilenet classify (its first line is not a 'mobilenet-classify-jsonl/1' header); it was left as it is (start over with --force, or write to another file)`,
    ]);
    expect(sha(victim)).toBe(before);
    // A result line with one byte that is not UTF-8 (it was truncated with NUL bytes inserted).
    const out = join(dir, 'out.jsonl');
    expect((await jsonl([img, join(FIX, 'tall.png')], out)).code).toBe(0);
    const good = readFileSync(out);
    const bad = Buffer.from(good);
    bad[bad.indexOf('scene.jpg') + 1] = 0xff;
    writeFileSync(out, bad);
    const u = await quick('classify', img, ...tiny, '--jsonl', out, '--resume');
    expect([u.code, u.err]).toEqual([
      1,
      expect.stringContaining(`--resume: '${out}' line 2 is not valid UTF-8; it was left as it is`),
    ]);
    expect(readFileSync(out).equals(bad)).toBe(true);
    // Another model's results (a seed is another model).
    writeFileSync(out, good);
    const o = await quick('classify', img, ...tiny, '--seed', '3', '--jsonl', out, '--resume');
    expect([o.code, o.err]).toEqual([
      1,
      expect.stringContaining(`--resume: '${out}' holds the results of another model ('--arch v3-small'`),
    ]);
    expect(readFileSync(out).equals(good)).toBe(true);
    // A line of 2 MB: refused by its length, the file not read whole.
    writeFileSync(out, Buffer.concat([good, Buffer.alloc(2 << 20, 0x20), Buffer.from('\n')]));
    const l = await quick('classify', img, ...tiny, '--jsonl', out, '--resume');
    expect([l.code, l.err]).toEqual([
      1,
      expect.stringContaining(
        `--resume: '${out}' line 4 is longer than the 1048576 bytes allowed; it was left as it is`,
      ),
    ]);
    expect(readFileSync(out).length).toBe(good.length + (2 << 20) + 1);
  }, 60_000);

  it('a failure line removed on resume rewrites OUT byte for byte around it; a torn tail is cut, nothing else', async () => {
    const dir = tmp();
    copyFileSync(join(FIX, 'scene.jpg'), join(dir, 'a.jpg'));
    copyFileSync(join(FIX, 'not-an-image.jpg'), join(dir, 'b.jpg'));
    copyFileSync(join(FIX, 'tall.png'), join(dir, 'c.png'));
    const out = join(tmp(), 'out.jsonl');
    expect((await jsonl([dir], out)).code).toBe(1);
    const [header, a, , c] = readFileSync(out, 'latin1').split('\n');
    writeFileSync(out, `${readFileSync(out, 'latin1')}{"image":"torn`, 'latin1');
    const r = await jsonl([dir], out, ['--resume']);
    expect(r.code).toBe(1); // b.jpg fails again
    const lines = readFileSync(out, 'latin1').split('\n');
    expect(lines.slice(0, 3)).toEqual([header, a, c]);
    expect(JSON.parse(lines[3]!)).toMatchObject({ image: join(dir, 'b.jpg'), ok: false });
  }, 60_000);

  it('a second writer to the same OUT is refused while the first holds OUT.lock; a stale lock is taken over', async () => {
    const out = join(tmp(), 'out.jsonl');
    writeFileSync(`${out}.lock`, `${process.pid}\n`);
    const r = await quick('classify', join(FIX, 'scene.jpg'), ...tiny, '--jsonl', out);
    expect([r.code, r.err.split('\n').at(-2)]).toEqual([
      1,
      `mobilenet classify: --jsonl: '${out}' is being written by another mobilenet (process ${process.pid}, per '${out}.lock'); wait for it to finish (a lock left by a process that is gone is taken over)`,
    ]);
    expect(existsSync(out)).toBe(false);
    const gone = spawnSync('true').pid!;
    writeFileSync(`${out}.lock`, `${gone}\n`);
    expect((await quick('classify', join(FIX, 'scene.jpg'), ...tiny, '--jsonl', out)).code).toBe(0);
    expect(existsSync(`${out}.lock`)).toBe(false);
    // embed takes the same lock.
    const npy = join(tmp(), 'e.npy');
    writeFileSync(`${npy}.lock`, `${process.pid}\n`);
    const e = await quick('embed', join(FIX, 'scene.jpg'), ...tiny, '-o', npy);
    expect([e.code, e.err]).toEqual([
      1,
      expect.stringContaining(`-o: '${npy}' is being written by another mobilenet (process ${process.pid}`),
    ]);
  }, 60_000);

  it('embed --resume: a header of 1e9 rows, a cut-short file, another model, no .meta.json: refused, untouched', async () => {
    const dir = tmp();
    copyFileSync(join(FIX, 'scene.jpg'), join(dir, 'a.jpg'));
    copyFileSync(join(FIX, 'tall.png'), join(dir, 'b.png'));
    const out = join(tmp(), 'e.npy');
    expect((await run('embed', dir, ...tiny, '-o', out)).code).toBe(0);
    const good = readFileSync(out);
    const resume = () => quick('embed', dir, ...tiny, '-o', out, '--resume');
    const cases: [Buffer, string][] = [
      [
        Buffer.from(
          good.toString('latin1').replace("'shape': (2, ", "'shape': (1000000000, ").slice(0, good.length),
          'latin1',
        ),
        'its header is not byte for byte',
      ],
      [good.subarray(0, good.length - 100), `is ${good.length - 100} bytes, but its header's 2 rows of`],
    ];
    for (const [bytes, why] of cases) {
      writeFileSync(out, bytes);
      const r = await resume();
      expect([r.code, r.err]).toEqual([1, expect.stringContaining(`-o --resume: '${out}' ${why}`)]);
      expect(readFileSync(out).equals(bytes)).toBe(true);
    }
    writeFileSync(out, good);
    const other = await quick('embed', dir, ...tiny, '--seed', '5', '-o', out, '--resume');
    expect([other.code, other.err]).toEqual([
      1,
      expect.stringContaining(`-o --resume: '${join(out, '..', 'e.meta.json')}' names another model`),
    ]);
    expect(readFileSync(out).equals(good)).toBe(true);
    const meta = join(out, '..', 'e.meta.json');
    writeFileSync(meta, '');
    truncateSync(meta, 0);
    expect((await resume()).err).toContain(`'${meta}' is not valid JSON`);
    expect(readFileSync(out).equals(good)).toBe(true);
  }, 60_000);

  it('embed: a name holding a line break is left out and named, so the rows and the names agree', async () => {
    const dir = tmp();
    copyFileSync(join(FIX, 'scene.jpg'), join(dir, 'a.jpg'));
    copyFileSync(join(FIX, 'tall.png'), join(dir, 'b\nc.png'));
    copyFileSync(join(FIX, 'scene.png'), join(dir, 'd.png'));
    const out = join(tmp(), 'e.npy');
    const r = await quick('embed', dir, ...tiny, '-o', out);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`'${dir}/b\\u000ac.png': left out, its name holds a line break`);
    expect(readFileSync(join(out, '..', 'e.files.txt'), 'utf8')).toBe(`${join(dir, 'a.jpg')}\n${join(dir, 'd.png')}\n`);
    expect(readFileSync(out).toString('latin1')).toContain("'shape': (2, ");
  }, 60_000);
});

describe('hostile calibration caches', () => {
  it('ranges as strings, null, 1e39, min > max, a missing tensor, model.name an object: refused naming the key', async () => {
    const dir = tmp();
    const calib = join(dir, 'calib');
    mkdirSync(calib);
    for (let i = 0; i < 8; i++) copyFileSync(join(FIX, 'scene.jpg'), join(calib, `${i}.jpg`));
    const cache = join(dir, 'ranges.json');
    const int8 = join(dir, 'q.onnx');
    expect(
      (
        await run(
          'export',
          ...tiny,
          '--precision',
          'int8',
          '--calibrate',
          calib,
          '--calibration-cache',
          cache,
          '-o',
          int8,
        )
      ).code,
    ).toBe(0);
    const good = JSON.parse(readFileSync(cache, 'utf8'));
    const first = Object.keys(good.ranges)[1]!;
    const edits: [(c: typeof good) => void, string][] = [
      [
        (c) => void (c.ranges[first].min = '0'),
        `.ranges['${first}'].min: expected a finite number within float32, received '0'`,
      ],
      [
        (c) => void (c.ranges[first].max = null),
        `.ranges['${first}'].max: expected a finite number within float32, received null`,
      ],
      [
        (c) => void (c.ranges[first].max = 1e39),
        `.ranges['${first}'].max: expected a finite number within float32, received 1e+39`,
      ],
      [
        (c) => void (c.ranges[first] = { min: 2, max: 1 }),
        `.ranges['${first}']: expected min <= max, received min 2 > max 1`,
      ],
      [(c) => void delete c.ranges[first], `.ranges: expected a range for each of the`],
      [(c) => void (c.model.name = { toString: 1 }), '.model.name: expected a string, received object'],
      [(c) => void (c.images = -1), '.images: expected a positive integer, received -1'],
    ];
    for (const [edit, message] of edits) {
      const c = structuredClone(good);
      edit(c);
      writeFileSync(cache, JSON.stringify(c));
      const r = await quick(
        'export',
        ...tiny,
        '--precision',
        'int8',
        '--calibration-cache',
        cache,
        '-o',
        join(dir, 'x.onnx'),
      );
      expect([r.code, r.err]).toEqual([
        1,
        expect.stringContaining(`mobilenet export: calibration cache '${cache}'${message}`),
      ]);
      expect(existsSync(join(dir, 'x.onnx'))).toBe(false);
    }
  }, 120_000);
});

describe('profile', () => {
  it('caps batch x channels x height x width (lifted by --allow-large)', async () => {
    const r = await quick('profile', ...tiny.slice(0, -4), '--resolution', '1024', '--batch', '64');
    expect([r.code, r.err]).toEqual([
      2,
      expect.stringMatching(
        /^mobilenet profile: option --batch: expected batch x channels x height x width up to 67108864 \(pass --allow-large for more\), received 201326592 for '\w+' with input \[64, 3, 1024, 1024\]\n$/,
      ),
    ]);
  });

  it('an opset onnxruntime cannot run is one line naming the file, without the coloured log of onnxruntime', async () => {
    const file = join(tmp(), 'opset999.onnx');
    writeFileSync(file, handOnnx({ opset: 999, nodes: [{ op: 'Identity', inputs: ['input'], outputs: ['logits'] }] }));
    const r = await quick('profile', file);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      new RegExp(
        `^mobilenet profile: model '${file}': expected a model onnxruntime-node can load, received ONNX Runtime only [^\\n]*Opset 999[^\\n]*\\n$`,
      ),
    );
  });

  it('Ctrl-C during the runs leaves no temporary folder behind', async () => {
    const dir = tmp();
    const child = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=source',
        join(ROOT, 'packages/cli/src/bin.ts'),
        'profile',
        ...tiny,
        '--runs',
        '10000',
      ],
      { env: { ...process.env, TMPDIR: dir }, encoding: 'utf8', timeout: 8000, killSignal: 'SIGINT', cwd: ROOT },
    );
    expect(child.signal ?? child.status).not.toBe(0);
    expect(readdirSync(dir).filter((f) => f.startsWith('mobilenet-profile-'))).toEqual([]);
  }, 60_000);
});
