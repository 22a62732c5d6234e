import { describe, expect, it } from 'vitest';
import { recordPipeline } from './pipeline-timeline.js';

const ports = () => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;

describe('recordPipeline', () => {
  it('stops its sampler when the session cannot start', async () => {
    const before = ports();
    const o = { runs: 1, cores: 2 };
    await expect(recordPipeline(new Uint8Array([1, 2, 3]), ['x.jpg'], o)).rejects.toThrow();
    // A running sampler holds a MessagePort (its worker's); stopped, it is gone (a second at most on a busy machine).
    for (let i = 0; i < 100 && ports() > before; i++) await new Promise((r) => setTimeout(r, 10));
    expect(ports()).toBe(before);
  });
});
