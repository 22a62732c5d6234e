import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METADATA_KEYS, buildModel, fanInFill, fromOnnx, toOnnx } from '@mobilenet/core';
import { BIN, ROOT, cleanTmp, run, tmp } from '../../test/testing.js';

afterAll(cleanTmp);
const BASE = ['--base', 'v3-small', '--width', '0.5', '--resolution', '32', '--no-cache'];
let source: string;

beforeAll(() => {
  source = tmp();
  const r = spawnSync('/usr/bin/python3', [join(ROOT, 'tools/fixtures/image_folders.py'), source, '--per-class', '8'], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`image_folders.py failed (Debian's python3-sklearn is needed): ${r.stderr}`);
});

/** An ImageFolder whose class folders (names given as strings or bytes) hold `n` digits images each. */
function folder(classes: (string | Buffer)[], n = 4): string {
  const dir = tmp();
  classes.forEach((name, i) => {
    const from = join(source, String(i));
    const to = typeof name === 'string' ? join(dir, name) : Buffer.concat([Buffer.from(`${dir}/`), name]);
    mkdirSync(to);
    for (const f of readdirSync(from).slice(0, n))
      copyFileSync(join(from, f), typeof to === 'string' ? join(to, f) : Buffer.concat([to, Buffer.from(`/${f}`)]));
  });
  return dir;
}

const train = (dir: string, ...more: string[]) => {
  const out = join(tmp(), 'out.onnx');
  return run('train', dir, '-o', out, ...BASE, ...more).then((r) => ({ ...r, out: r.out, file: out }));
};

describe('mobilenet train: bad input gets a clear error', () => {
  it('a class folder with fewer than 2 images, named, with its count', async () => {
    const dir = folder(['cat', 'dog']);
    const one = folder(['x'], 1);
    copyFileSync(join(one, 'x', readdirSync(join(one, 'x'))[0]!), join(dir, 'bird.png'));
    mkdirSync(join(dir, 'bird'));
    copyFileSync(join(one, 'x', readdirSync(join(one, 'x'))[0]!), join(dir, 'bird', 'a.png'));
    const r = await train(dir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/class folder '.*\/bird': expected at least 2 images .*, received 1/);
    expect(existsSync(r.file)).toBe(false);
  });

  it('one class only', async () => {
    const r = await train(folder(['cat']));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/expected at least 2 class folders in .*, received 1 \('.*\/cat'\)/);
  });

  it('non-image files are named and skipped; a file that is not an image inside is named and left out', async () => {
    const dir = folder(['cat', 'dog'], 4);
    writeFileSync(join(dir, 'cat', 'notes.txt'), 'not an image');
    writeFileSync(join(dir, 'dog', 'broken.png'), 'not a png either');
    writeFileSync(join(dir, 'README.md'), '# my classes');
    const r = await train(dir, '--epochs', '2');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/'.*\/cat\/notes\.txt': skipped, not an image file \(expected one of .*, received '\.txt'\)/);
    expect(r.err).toMatch(/'.*\/README\.md': skipped, not in a class folder/);
    expect(r.err).toMatch(/broken\.png/);
    expect(r.err).toMatch(/8 images in 2 classes/);
  });

  it('class names that are not UTF-8, or that repeat after normalisation', async () => {
    const bad = await train(folder([Buffer.from([0x63, 0x61, 0xff]), 'dog']));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/class folder '.*ca\\xff': expected a name in UTF-8/);
    const twice = await train(folder(['caf\u00e9', 'cafe\u0301', 'dog']));
    expect(twice.code).toBe(2);
    expect(twice.err).toMatch(
      /expected distinct class names, received the same name 'café' after Unicode normalisation/,
    );
    const spaced = await train(folder(['dog', 'dog ']));
    expect(spaced.code).toBe(2);
  });

  it('a base model with no embedding output', async () => {
    const file = join(tmp(), 'plain.onnx');
    writeFileSync(
      file,
      toOnnx(buildModel({ arch: 'v3-small', width: 0.5, resolution: 32, weights: fanInFill(0) }).graph),
    );
    const r = await run('train', folder(['cat', 'dog']), '-o', join(tmp(), 'o.onnx'), '--base', file);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /option --base: expected a model with an 'embedding' output .*received '.*plain\.onnx' with outputs 'logits'/,
    );
  });

  it('NaN loss says the learning rate is too high and suggests one', async () => {
    const r = await train(folder(['cat', 'dog', 'bird']), '--lr', '1e300');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /expected a finite training loss, received (NaN|Infinity).*learning rate 1e\+300 is too high.*try lr/,
    );
    expect(existsSync(r.file)).toBe(false);
  });

  it('refuses to overwrite OUT, and -o .safetensors without --head-only', async () => {
    const dir = folder(['cat', 'dog']);
    const out = join(tmp(), 'x.onnx');
    writeFileSync(out, 'mine');
    expect((await run('train', dir, '-o', out, ...BASE)).code).toBe(2);
    const st = await run('train', dir, '-o', join(tmp(), 'h.safetensors'), ...BASE);
    expect(st.err).toMatch(/add --head-only/);
    const help = await run('train', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/ImageFolder layout/);
    expect((await run('train', dir, '-o', join(tmp(), 'y.onnx'), ...BASE, '--hidden', '8')).err).toMatch(
      /option --hidden: expected --head mlp to go with it, received '8'/,
    );
  });

  it('Ctrl-C while training leaves no .onnx and no temporary file', async () => {
    const dir = folder(['cat', 'dog', 'bird'], 6);
    const outDir = tmp();
    const out = join(outDir, 'c.onnx');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=source',
        BIN,
        'train',
        dir,
        '-o',
        out,
        ...BASE,
        '--epochs',
        '100000',
        '--patience',
        '100000',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (d) => {
      stderr += d;
      // Training is under way: interrupt it.
      if (/epoch 20: loss/.test(stderr) && child.exitCode === null && !child.killed) child.kill('SIGINT');
    });
    // Bounded: a child that never trains is killed after 60 s and the test fails.
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done) =>
      child.on('close', (c, s) => done([c, s])),
    );
    clearTimeout(timer);
    expect(stderr).toMatch(/epoch 20: loss/);
    expect(code === 130 || signal === 'SIGINT', `exit ${code}, signal ${signal}: ${stderr.slice(-500)}`).toBe(true);
    expect(readdirSync(outDir)).toEqual([]);
  }, 90_000);
});

describe('mobilenet train --augment', () => {
  it('embeds seeded views of the training images only, and a second run takes them from the cache', async () => {
    const dir = folder(['cat', 'dog', 'bird'], 6);
    const cache = tmp();
    const args = ['--base', 'v3-small', '--width', '0.5', '--resolution', '32', '--cache', cache, '--augment'];
    const first = await run('train', dir, '-o', join(tmp(), 'a.onnx'), ...args, '--epochs', '2');
    expect(first.code, first.err).toBe(0);
    // 6 images per class, 1 of each validates: 15 training images, 2 views each.
    expect(first.err).toMatch(/18 images in 3 classes \(15 train \+ 30 augmented views, 3 validation\)/);
    expect(first.err).toMatch(/embeddings: 0 from the cache, 48 computed/);
    const again = await run('train', dir, '-o', join(tmp(), 'b.onnx'), ...args, '--epochs', '2');
    expect(again.err).toMatch(/embeddings: 48 from the cache, 0 computed/);
    const seeded = await run('train', dir, '-o', join(tmp(), 'c.onnx'), ...args, '--epochs', '2', '--seed', '1');
    // another seed: another split and other views (the originals are cached)
    expect(seeded.err).toMatch(/embeddings: 18 from the cache, 30 computed/);
  }, 60_000);
});

describe('mobilenet train --precision int8', () => {
  it('quantizes the fused file (calibrated on a class folder) and classify reads its labels', async () => {
    const dir = folder(['cat', 'dog'], 8);
    const out = join(tmp(), 'q.onnx');
    const r = await run(
      'train',
      dir,
      '-o',
      out,
      ...BASE,
      '--epochs',
      '3',
      '--precision',
      'int8',
      '--calibrate',
      join(dir, 'cat'),
    );
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/int8 check on 8 calibration images/);
    const graph = fromOnnx(readFileSync(out)).graph;
    expect(graph.metadata[METADATA_KEYS.precision]).toBe('int8');
    expect(graph.nodes.some((n) => n.op === 'QuantizeLinear')).toBe(true);
    const c = await run('classify', join(dir, 'dog', readdirSync(join(dir, 'dog'))[0]!), '--model', out, '--json');
    expect(c.code, c.err).toBe(0);
    expect((JSON.parse(c.out)[0].top as { label: string }[]).map((t) => t.label).sort()).toEqual(['cat', 'dog']);
  }, 60_000);
});

describe('mobilenet train --standardize', () => {
  it('is on by default with Adam, recorded, and the fused file (mean and std folded into the head) classifies its own training images', async () => {
    const dir = folder(['cat', 'dog'], 8);
    const out = join(tmp(), 's.onnx');
    const r = await run('train', dir, '-o', out, ...BASE, '--epochs', '20', '--lr', '0.01', '--val', '0');
    expect(r.code, r.err).toBe(0);
    const graph = fromOnnx(readFileSync(out)).graph;
    expect(JSON.parse(graph.metadata[METADATA_KEYS.training]!).head.standardize).toBe(true);
    const images = ['cat', 'dog'].map((c) => join(dir, c, readdirSync(join(dir, c))[0]!));
    const c = await run('classify', ...images, '--model', out, '--json');
    expect(c.code, c.err).toBe(0);
    expect((JSON.parse(c.out) as { top: { label: string }[] }[]).map((x) => x.top[0]!.label)).toEqual(['cat', 'dog']);
    // Off with --no-standardize, and by default with L-BFGS (scikit-learn's problem); both flags are refused.
    for (const [flags, want] of [
      [['--no-standardize'], false],
      [['--optimizer', 'lbfgs'], false],
      [['--optimizer', 'lbfgs', '--standardize'], true],
    ] as const) {
      const o = join(tmp(), 'f.onnx');
      const f = await run('train', dir, '-o', o, ...BASE, '--epochs', '5', '--val', '0', ...flags);
      expect(f.code, f.err).toBe(0);
      const head = JSON.parse(fromOnnx(readFileSync(o)).graph.metadata[METADATA_KEYS.training]!).head;
      expect(head.standardize, flags.join(' ')).toBe(want);
    }
    const both = await run('train', dir, '-o', join(tmp(), 'b.onnx'), ...BASE, '--standardize', '--no-standardize');
    expect(both.code).toBe(2);
    expect(both.err).toContain('--standardize/--no-standardize');
  }, 90_000);
});
