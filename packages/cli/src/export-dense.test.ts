// `mobilenet export --weights FILE.pth` for the detection and segmentation archs (issue 26), as a user types it:
// a torch-zip checkpoint with torchvision's state_dict keys loads by identity (the layout found from the head's key,
// the classes from its rows, DeepLabV3's aux head from its keys). The numbers against torchvision itself are
// core's dense-fidelity.test.ts; here the checkpoint is written by our test pickler, so no torch is needed.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Graph, METADATA_KEYS, OPS, buildModel, fromOnnx } from '@mobilenet/core';
import { P, makeZip, stateDictPickle } from '@mobilenet/core/testing';
import { main } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'mobilenet-cli-dense-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(...argv: string[]) {
  let err = '';
  const code = await main(argv, { out: () => {}, err: (t) => void (err += t), isTty: false });
  return { code, err };
}

/** The graph's parameters and BN statistics (not Resize scales, Reshape shapes or Clip bounds), by name. */
function stateDict(graph: Graph): Map<string, { dims: readonly number[]; data: Float32Array }> {
  const owned = new Set(
    graph.nodes.flatMap((n) => n.inputs.filter((_, i) => OPS[n.op]!.roles?.[i] && OPS[n.op]!.roles![i] !== 'const')),
  );
  return new Map(
    graph.initializers
      .filter((i) => owned.has(i.name))
      .map((i) => [i.name, { dims: i.dims, data: i.data as Float32Array }]),
  );
}

/** torch.save's zip layout of a float32 state_dict (plus torchvision's num_batches_tracked, which we ignore). */
function writePth(file: string, tensors: ReturnType<typeof stateDict>): void {
  const specs: Parameters<typeof stateDictPickle>[0] = {};
  const data: Record<string, Uint8Array> = {};
  [...tensors].forEach(([name, t], k) => {
    const stride = t.dims.map((_, d) => t.dims.slice(d + 1).reduce((a, b) => a * b, 1));
    specs[name] = {
      storage: `${k}`,
      numel: t.data.length,
      offset: 0,
      size: t.dims.map(P.int),
      stride: stride.map(P.int),
    };
    data[`archive/data/${k}`] = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  });
  writeFileSync(file, makeZip({ 'archive/data.pkl': stateDictPickle(specs), ...data }));
}

describe('export --weights FILE.pth for the detection and segmentation archs', () => {
  it.each([
    ['ssdlite320-v3-large', {}, ['bbox_regression', 'cls_logits'], 'head.classification_head.module_list.0.1.weight'],
    ['deeplabv3-v3-large', { aux: true }, ['out', 'aux'], 'classifier.4.weight'],
  ] as const)('%s %j: loads by identity, outputs %j', async (arch, extra, outputs, evidence) => {
    // A checkpoint with 5 classes, as a user's fine-tuned model would have (the head's rows say it).
    const source = stateDict(buildModel({ arch, ...extra, classes: 5, resolution: 320, weights: 11 }).graph);
    const pth = join(dir, `${arch}.pth`);
    writePth(pth, source);
    const out = join(dir, `${arch}.onnx`);
    // The raw heads: a detector's postprocessing goes in the graph by default (below).
    const raw = arch === 'ssdlite320-v3-large' ? ['--postprocess', 'none'] : [];
    const r = await run('export', '--arch', arch, '--weights', pth, '--resolution', '320', ...raw, '-o', out);
    expect(r.err).toContain(`has torchvision (found ${evidence}) keys`);
    expect(r.code).toBe(0);
    const graph = fromOnnx(new Uint8Array(readFileSync(out)), out).graph;
    expect(graph.outputs.map((o) => o.name)).toEqual(outputs);
    expect(JSON.parse(graph.metadata[METADATA_KEYS.config]!)).toMatchObject({ arch, classes: 5, weights: 'trained' });
    const loaded = stateDict(graph);
    expect([...loaded.keys()]).toEqual([...source.keys()]);
    // Byte for byte (vitest's deep equality over 11 M floats takes minutes).
    const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    const differ = [...source].filter(([name, t]) => !bytes(loaded.get(name)!.data).equals(bytes(t.data)));
    expect(differ.map(([name]) => name)).toEqual([]);
    if (raw.length === 0) return;
    const byDefault = join(dir, `${arch}-default.onnx`);
    expect((await run('export', '--arch', arch, '--weights', pth, '-o', byDefault)).code).toBe(0);
    const outputs2 = fromOnnx(new Uint8Array(readFileSync(byDefault)), byDefault).graph.outputs.map((o) => o.name);
    expect(outputs2).toEqual(['detection_boxes', 'detection_scores', 'detection_labels', 'detection_count']);
  });

  it('a checkpoint of another arch is refused, naming the keys that differ', async () => {
    const pth = join(dir, 'lraspp.pth');
    writePth(pth, stateDict(buildModel({ arch: 'lraspp-v3-large', resolution: 64, weights: 1 }).graph));
    const r = await run('export', '--arch', 'ssdlite320-v3-large', '--weights', pth, '-o', join(dir, 'x.onnx'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/expected torchvision keys .* received keys backbone\.0\.0\.weight/);
  });
});
