import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import os from 'node:os';

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly mhz: number;
  readonly simd: string;
  /** fp32 multiply-accumulates per cycle per core assumed from the SIMD flags (two FMA pipes). */
  readonly macsPerCycle: number;
  /** cores x GHz x MACs/cycle: the fp32 peak the achieved GMAC/s are compared with. */
  readonly peakGmacs: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly versions: Readonly<Record<string, string>>;
}

const require = createRequire(import.meta.url);
/** A dependency's version, found by walking up from its entry point (some packages do not export package.json). */
function version(pkg: string): string {
  let dir = dirname(require.resolve(pkg));
  while (dir !== dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const json = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version: string };
      if (json.name === pkg) return json.version;
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

export function machine(): Machine {
  let flags: string[] = [];
  let mhz = os.cpus()[0]?.speed ?? 0;
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    flags = /^flags\s*:\s*(.*)$/m.exec(info)?.[1]?.split(' ') ?? [];
    mhz = Number(/^cpu MHz\s*:\s*([\d.]+)/m.exec(info)?.[1] ?? mhz);
  } catch {
    // not Linux: fall back to what Node reports
  }
  const has = (f: string) => flags.includes(f);
  const [simd, macsPerCycle] = has('avx512f') ? ['AVX-512', 32] : has('avx2') && has('fma') ? ['AVX2+FMA', 16] : ['SSE', 4];
  const cores = os.cpus().length;
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores,
    mhz: Math.round(mhz),
    simd: simd as string,
    macsPerCycle: macsPerCycle as number,
    peakGmacs: Math.round((cores * mhz * (macsPerCycle as number)) / 1000),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    versions: {
      'onnxruntime-node': version('onnxruntime-node'),
      'onnxruntime-web': version('onnxruntime-web'),
      '@tensorflow/tfjs-core': version('@tensorflow/tfjs-core'),
    },
  };
}

export function describeMachine(m: Machine): string {
  return `${m.cpu}, ${m.cores} cores at ${m.mhz} MHz nominal (${m.simd}: peak ${m.peakGmacs} GMAC/s fp32 = cores x GHz x ${m.macsPerCycle} MACs/cycle, two FMA pipes assumed; a core boosting above nominal can exceed 100%), ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}, onnxruntime-node ${m.versions['onnxruntime-node']}, onnxruntime-web ${m.versions['onnxruntime-web']}, tfjs ${m.versions['@tensorflow/tfjs-core']}`;
}
