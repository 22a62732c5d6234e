// scratch (not committed): decoders sweep, interleaved rounds, e2e ms/img and CPU ms/img
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildModel, fanInFill } from '@mobilenet/core';
import { createSession } from '@mobilenet/runtime-node';
const DIR = '/tmp/heldout';
const files = readdirSync(DIR).sort().map((f) => join(DIR, f));
const arch = (process.argv[2] ?? 'v2') as 'v2';
const configs = (process.argv[3] ?? '2,4,8,16,auto').split(',');
const batch = Number(process.argv[4] ?? 16);
const rounds = Number(process.argv[5] ?? 5);
const s = await createSession(buildModel({ arch, convention: 'torchvision', weights: fanInFill(0), batch: 'dynamic' }), { threads: 2, spinning: false });
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const res: Record<string, { ms: number[]; cpu: number[] }> = {};
for (const c of configs) res[c] = { ms: [], cpu: [] };
for await (const _ of s.classifyAll(files.slice(0, 48), { batch }));
for (let r = 0; r < rounds; r++)
  for (let k = 0; k < configs.length; k++) {
    const c = configs[(k + r) % configs.length]!;
    const o = { batch, ...(c !== 'auto' && { decoders: Number(c) }) };
    const c0 = cpu(); const t0 = performance.now();
    for await (const x of s.classifyAll(files, o)) if (!x.ok) throw new Error(x.error);
    res[c]!.ms.push((performance.now() - t0) / files.length);
    res[c]!.cpu.push((cpu() - c0) / files.length);
  }
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(2);
for (const c of configs) console.log(`${arch} batch ${batch} decoders ${c}: e2e ms/img median ${med(res[c]!.ms)} [${res[c]!.ms.map((x) => x.toFixed(1)).join(' ')}], cpu ${med(res[c]!.cpu)}`);
