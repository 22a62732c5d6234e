import { int8KernelsHere } from '@mobilenet/runtime-node';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import os from 'node:os';

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  /** onnxruntime's int8 kernel path on this CPU (VNNI/AMX/AVX2/NEON), from /proc/cpuinfo. */
  readonly int8Kernels: string;
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

/** What the machine is. Its fp32 peak is measured separately (peak.ts): nothing here is derived from clocks. */
export function machine(): Machine {
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    int8Kernels: int8KernelsHere().path,
    versions: {
      'onnxruntime-node': version('onnxruntime-node'),
      'onnxruntime-web': version('onnxruntime-web'),
      '@tensorflow/tfjs-core': version('@tensorflow/tfjs-core'),
    },
  };
}

export function describeMachine(m: Machine): string {
  return `${m.cpu}${m.int8Kernels ? ` (int8 kernels: ${m.int8Kernels})` : ''}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}, onnxruntime-node ${m.versions['onnxruntime-node']}, onnxruntime-web ${m.versions['onnxruntime-web']}, tfjs ${m.versions['@tensorflow/tfjs-core']}`;
}
