import { type Graph, type Int8Target, MobileNetError } from '@mobilenet/core';
import { type Int8Check, type LayerFidelity, checkInt8, worstLayer } from '@mobilenet/tools';
import type { Io } from './io.js';

/** What the self-check needs of the export's options. */
export interface Int8CheckPlan {
  readonly target: Int8Target;
  readonly strict: boolean;
  readonly verbose: boolean;
}

/**
 * Below these an int8 file is broken, not merely rounded (issue #22: weights whose activations vanish gave 0 dB and
 * 0% agreement; working files measure 25-40 dB and 95-100% on photographs).
 */
export const INT8_FLOOR = { sqnrDb: 15, top1: 0.9 } as const;

/** The self-check as the file's metadata records it ('mobilenet.int8.check'). */
export interface Int8Report {
  readonly inputs: string;
  readonly floor: typeof INT8_FLOOR;
  readonly cpu: { readonly kernels: string; readonly sqnrDb: number; readonly top1Agreement: number };
  readonly avx2: { readonly sqnrDb: number; readonly top1Agreement: number };
  readonly worstLayer?: { readonly node: string; readonly sqnrDb: number; readonly lossDb: number };
}

const round = (v: number, d = 2) => (Number.isFinite(v) ? Number(v.toFixed(d)) : v);
const db = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} dB` : 'exact');
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const below = (f: { sqnrDb: number; top1Agreement: number }) =>
  !(f.sqnrDb >= INT8_FLOOR.sqnrDb) || f.top1Agreement < INT8_FLOOR.top1;

function table(check: Int8Check): string {
  const row = (name: string, f: Int8Check['cpu']) =>
    `  ${name.padEnd(34)} ${db(f.sqnrDb).padStart(8)}  ${pct(f.top1Agreement).padStart(6)}  ${pct(f.top5Overlap).padStart(6)}\n`;
  return (
    `  ${''.padEnd(34)} ${'SQNR'.padStart(8)}  ${'top-1'.padStart(6)}  ${'top-5'.padStart(6)}\n` +
    row(`this CPU's kernels (${check.kernels.path})`, check.cpu) +
    row('AVX2 without VNNI (emulated)', check.avx2)
  );
}

function layerTable(layers: readonly LayerFidelity[]): string {
  const lines = layers.map(
    (l) =>
      `  ${l.node.padEnd(36)} ${l.op.padEnd(5)} ${db(l.sqnrDb).padStart(8)}  ${l.lossDb.toFixed(1).padStart(6)} dB\n`,
  );
  return `  ${'layer'.padEnd(36)} ${'op'.padEnd(5)} ${'SQNR'.padStart(8)}  ${'lost'.padStart(9)}\n${lines.join('')}`;
}

const layerLine = (l: LayerFidelity) => `${l.node} (${l.op}: ${db(l.sqnrDb)}, lost ${l.lossDb.toFixed(1)} dB there)`;

/**
 * Runs the int8 self-check (runtime-node's checkInt8) and prints it. Below the floor on this CPU (or, for a
 * portable file, under emulated AVX2 too) it warns, or with --strict refuses, naming the worst layer.
 */
export async function checkedInt8(
  float: Graph,
  q: Graph,
  inputs: { inputs: Float32Array[]; source: string },
  plan: Int8CheckPlan,
  io: Io,
): Promise<Int8Report> {
  const check = await checkInt8(float, q, inputs.inputs);
  const worst = worstLayer(check);
  io.err(`int8 check on ${inputs.source}, against fp32 (${plan.target} weights):\n${table(check)}`);
  if (worst) io.err(`  worst layer: ${layerLine(worst)}\n`);
  if (plan.verbose) io.err(layerTable(check.layers));
  const failing = [
    ...(below(check.cpu) ? [`this CPU (${check.kernels.path})`] : []),
    ...(plan.target === 'portable' && below(check.avx2) ? ['emulated AVX2'] : []),
  ];
  if (plan.target === 'vnni' && below(check.avx2))
    io.err(
      `int8: this file is for VNNI CPUs: on AVX2 without VNNI it measures ${db(check.avx2.sqnrDb)}; --int8-target portable runs well on both\n`,
    );
  if (failing.length) {
    const what = `${failing.join(' and ')}: below SQNR ${INT8_FLOOR.sqnrDb} dB or top-1 agreement ${pct(INT8_FLOOR.top1)}`;
    const hint = worst ? `; the worst layer is ${layerLine(worst)} (--verbose lists every layer)` : '';
    if (plan.strict)
      throw new MobileNetError(
        'int8',
        `--precision int8 of model '${float.name}' (--strict)`,
        `int8 logits within the floor of fp32's on ${inputs.source}`,
        `${what}${hint}`,
        'check the weights (seeded or dead weights give activations int8 cannot resolve), calibrate on images like those the model will see, or export fp32/fp16',
      );
    io.err(`warning: int8 ${what}${hint}; the file is written (--strict refuses it)\n`);
  }
  return {
    inputs: inputs.source,
    floor: INT8_FLOOR,
    cpu: {
      kernels: check.kernels.path,
      sqnrDb: round(check.cpu.sqnrDb),
      top1Agreement: round(check.cpu.top1Agreement, 4),
    },
    avx2: { sqnrDb: round(check.avx2.sqnrDb), top1Agreement: round(check.avx2.top1Agreement, 4) },
    ...(worst && { worstLayer: { node: worst.node, sqnrDb: round(worst.sqnrDb), lossDb: round(worst.lossDb) } }),
  };
}
