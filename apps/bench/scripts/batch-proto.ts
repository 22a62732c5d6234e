import { buildModel, fanInFill } from '@mobilenet/core';
import { createSession } from '@mobilenet/runtime-node';
const arch = (process.argv[2] ?? 'v2') as 'v2';
const s = await createSession(buildModel({ arch, convention: 'torchvision', weights: fanInFill(0), batch: 'dynamic' }), { threads: 2, spinning: false });
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const res: Record<number, { w: number[]; c: number[] }> = {};
for (const b of [1, 2, 4, 8, 16, 32]) res[b] = { w: [], c: [] };
for (let r = 0; r < 4; r++)
  for (const b of [1, 2, 4, 8, 16, 32]) {
    const x = new Float32Array(b * 3 * 224 * 224).fill(0.2);
    await s.logits(x, b);
    const runs = Math.ceil(64 / b);
    const c0 = cpu(); const t0 = performance.now();
    for (let i = 0; i < runs; i++) await s.logits(x, b);
    res[b]!.w.push((performance.now() - t0) / (runs * b));
    res[b]!.c.push((cpu() - c0) / (runs * b));
  }
const min = (xs: number[]) => Math.min(...xs).toFixed(2);
for (const b of [1, 2, 4, 8, 16, 32]) console.log(`${arch} batch ${b}: wall ms/img best ${min(res[b]!.w)} cpu ${min(res[b]!.c)}`);
