import { availableBackends } from '@mobilenet/runtime-node';
import { parse } from '../parse.js';
import type { Io } from '../io.js';

export const BACKENDS_HELP = `Usage: mobilenet backends [--json]

Which onnxruntime-node backends (cpu, cuda, webgpu) work on this machine, and for each that does not, why.
`;

export async function backends(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, { json: { type: 'boolean' } });
  if (values.help) return (io.out(BACKENDS_HELP), 0);
  const list = await availableBackends();
  if (values.json) io.out(`${JSON.stringify(list, null, 2)}\n`);
  else
    for (const b of list) io.out(`${b.backend.padEnd(7)} ${b.available ? 'available' : `unavailable: ${b.reason}`}\n`);
  return 0;
}
