import { availableBackends, int8KernelsHere } from '@mobilenet/runtime-node';
import { parse } from '../parse.js';
import type { Io } from '../io.js';

export const BACKENDS_HELP = `Usage: mobilenet backends [--json]

Which onnxruntime-node backends (cpu, cuda, webgpu) work on this machine, and for each that does not, why; and
which int8 kernels onnxruntime's CPU backend takes here (read from /proc/cpuinfo): on AVX2 without VNNI they
saturate, and only 'portable' int8 files (the default of export --precision int8) keep their accuracy.
`;

export async function backends(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, { json: { type: 'boolean' } });
  if (values.help) return (io.out(BACKENDS_HELP), 0);
  const int8 = int8KernelsHere();
  const list = (await availableBackends()).map((b) => (b.backend === 'cpu' ? { ...b, int8 } : b));
  if (values.json) io.out(`${JSON.stringify(list, null, 2)}\n`);
  else {
    for (const b of list) io.out(`${b.backend.padEnd(7)} ${b.available ? 'available' : `unavailable: ${b.reason}`}\n`);
    io.out(`int8 on cpu: ${int8.path}: ${int8.description}\n`);
  }
  return 0;
}
