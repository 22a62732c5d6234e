import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildModel, fanInFill, summarizeOnnx } from '@mobilenet/core';
import { createSession } from '@mobilenet/runtime-node';
import { BIN, ROOT, cleanTmp, run, spawnTsx, tmp } from '../../test/testing.js';
import { readMatrix } from '../matrix-file.js';

afterAll(cleanTmp);
const FIX = join(ROOT, 'packages/runtime-node/test/fixtures');
const model = ['--arch', 'v3-small', '--convention', 'torchvision', '--resolution', '64'];
const PY = '/usr/bin/python3';
// Needs Debian's numpy (an independent reader); in CI its absence is a failure, not a skip.
const numpy = spawnSync(PY, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

/** numpy's and a plain JSON reading of the files: readers we did not write. */
function pythonRead(file: string): { shape: number[]; first: number[] } {
  const script = file.endsWith('.npy')
    ? 'import numpy as np, sys, json; a = np.load(sys.argv[1]); print(json.dumps({"shape": list(a.shape), "first": a[0].tolist() if len(a) else []}))'
    : 'import numpy as np, sys, json, struct; b = open(sys.argv[1], "rb").read(); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n]); t = h["embeddings"]; s, e = t["data_offsets"]; a = np.frombuffer(b[8 + n + s:8 + n + e], "<f4").reshape(t["shape"]); print(json.dumps({"shape": list(a.shape), "first": a[0].tolist() if len(a) else []}))';
  const r = spawnSync(PY, ['-c', script, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

describe('mobilenet embed', () => {
  it.skipIf(!numpy && !process.env.CI)(
    'writes .npy and .safetensors that numpy reads, rows in order with their file list; bad images left out and counted',
    async () => {
      const dir = tmp();
      copyFileSync(join(FIX, 'scene.jpg'), join(dir, 'a.jpg'));
      copyFileSync(join(FIX, 'truncated.jpg'), join(dir, 'b.jpg'));
      copyFileSync(join(FIX, 'tall.png'), join(dir, 'c.png'));
      const session = await createSession(
        buildModel({
          arch: 'v3-small',
          convention: 'torchvision',
          resolution: 64,
          embedding: true,
          weights: fanInFill(0),
          batch: 'dynamic',
        }),
      );
      const expected = await session.embed([join(dir, 'a.jpg')]);
      await session.release();
      for (const ext of ['npy', 'safetensors'] as const) {
        const out = join(tmp(), `emb.${ext}`);
        const r = await run('embed', dir, ...model, '-o', out);
        expect(r.code, r.err).toBe(1);
        expect(r.err).toContain(`${join(dir, 'b.jpg')}: cannot decode`);
        expect(r.err).toContain('1 of 3 failed');
        expect(readFileSync(join(out, '..', 'emb.files.txt'), 'utf8')).toBe(
          `${join(dir, 'a.jpg')}\n${join(dir, 'c.png')}\n`,
        );
        const py = pythonRead(out);
        expect(py.shape).toEqual([2, 576]);
        const ours = readMatrix(out, ext);
        expect([ours.rows, ours.width]).toEqual([2, 576]);
        const e = expected[0]!;
        if (!e.ok) throw new Error(e.error);
        for (const [i, v] of py.first.entries()) expect(v).toBeCloseTo(e.embedding[i]!, 5);
      }
      const out = join(tmp(), 'x.npy');
      writeFileSync(out, 'taken');
      expect((await run('embed', dir, ...model, '-o', out)).code).toBe(2);
      expect((await run('embed', dir, ...model, '-o', join(tmp(), 'x.bin'))).err).toContain(
        'option -o: expected a file ending in .npy or .safetensors',
      );
    },
  );

  it('--resume tries the images that failed again (only rows are kept, so a failure is never skipped)', async () => {
    const dir = tmp();
    copyFileSync(join(FIX, 'scene.jpg'), join(dir, 'a.jpg'));
    copyFileSync(join(FIX, 'truncated.jpg'), join(dir, 'b.jpg'));
    const out = join(tmp(), 'emb.npy');
    const list = join(out, '..', 'emb.files.txt');
    expect((await run('embed', dir, ...model, '-o', out)).code).toBe(1);
    expect(readFileSync(list, 'utf8')).toBe(`${join(dir, 'a.jpg')}\n`);
    copyFileSync(join(FIX, 'scene.jpg'), join(dir, 'b.jpg'));
    const r = await run('embed', dir, ...model, '-o', out, '--resume');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`resuming: 1 images already in ${out}`);
    expect(readFileSync(list, 'utf8')).toBe(`${join(dir, 'a.jpg')}\n${join(dir, 'b.jpg')}\n`);
    const m = readMatrix(out, 'npy');
    expect([m.rows, m.width]).toEqual([2, 576]);
    // b.jpg is now the same picture as a.jpg: the same row.
    expect(Array.from(m.data.subarray(576))).toEqual(Array.from(m.data.subarray(0, 576)));
  });

  it.skipIf(!numpy && !process.env.CI)('Ctrl-C leaves a file numpy reads; --resume completes it in order', async () => {
    const dir = tmp();
    for (let i = 0; i < 300; i++) copyFileSync(join(FIX, 'scene.jpg'), join(dir, `${String(i).padStart(3, '0')}.jpg`));
    const outDir = tmp();
    const out = join(outDir, 'emb.npy');
    let pid = 0;
    let sent = false;
    const watcher = watch(outDir, () => {
      let listed = '';
      try {
        listed = readFileSync(join(outDir, 'emb.files.txt'), 'utf8');
      } catch {
        return;
      }
      if (!sent && pid && listed.length > 0) {
        sent = true;
        process.kill(pid, 'SIGINT');
      }
    });
    const r = await spawnTsx([BIN, 'embed', dir, ...model, '-o', out], { onStart: (p) => void (pid = p) }).finally(() =>
      watcher.close(),
    );
    expect(sent).toBe(true);
    expect(r.code, r.stderr).toBe(130);
    const partial = pythonRead(out).shape[0]!;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(300);
    const rest = await run('embed', dir, ...model, '-o', out, '--resume');
    expect(rest.code, rest.err).toBe(0);
    expect(pythonRead(out).shape).toEqual([300, 576]);
    expect(readFileSync(join(outDir, 'emb.files.txt'), 'utf8').split('\n').slice(0, -1)).toEqual(
      Array.from({ length: 300 }, (_, i) => join(dir, `${String(i).padStart(3, '0')}.jpg`)),
    );
  });

  it("embed --model works on any classifier `mobilenet export` wrote: it outputs 'embedding' beside 'logits'", async () => {
    const dir = tmp();
    const classifier = join(dir, 'v3s.onnx');
    const e = await run('export', ...model, '--init', 'fan-in', '-o', classifier);
    expect(e.code, e.err).toBe(0);
    expect(summarizeOnnx(readFileSync(classifier), classifier).outputs.map((o) => o.name)).toEqual([
      'logits',
      'embedding',
    ]);
    // The same vector as the library's model built with `embedding: true`, and the same logits as without it.
    const session = await createSession(
      buildModel({
        arch: 'v3-small',
        convention: 'torchvision',
        resolution: 64,
        embedding: true,
        weights: fanInFill(0),
      }),
    );
    const [expected] = await session.embed([join(FIX, 'scene.jpg')]);
    await session.release();
    const out = join(dir, 'emb.npy');
    const r = await run('embed', join(FIX, 'scene.jpg'), '--model', classifier, '-o', out);
    expect(r.code, r.err).toBe(0);
    if (!expected?.ok) throw new Error('the library could not embed scene.jpg');
    expect(Array.from(readMatrix(out, 'npy').data)).toEqual(Array.from(expected.embedding));
    const c = await run('classify', join(FIX, 'scene.jpg'), '--model', classifier, '--json');
    expect(c.code, c.err).toBe(0);

    // --no-embedding (and --target opencv, whose forward() returns the last output) write the logits alone.
    const bare = join(dir, 'bare.onnx');
    expect((await run('export', ...model, '--no-embedding', '-o', bare)).code).toBe(0);
    const cv = join(dir, 'cv.onnx');
    expect((await run('export', ...model, '--target', 'opencv', '-o', cv)).code).toBe(0);
    for (const f of [bare, cv])
      expect(summarizeOnnx(readFileSync(f), f).outputs.map((o) => o.name)).toEqual(['logits']);
    const refused = await run('embed', join(FIX, 'scene.jpg'), '--model', bare, '-o', join(dir, 'x.npy'));
    expect(refused.code).toBe(2);
    expect(refused.err).toContain(
      "option --model: expected a model with an 'embedding' output (mobilenet export writes one unless --no-embedding: export it again)",
    );
  });
});
