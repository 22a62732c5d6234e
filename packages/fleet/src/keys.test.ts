import { describe, expect, it } from 'vitest';
import { jobIdOf, modelKeyOf } from './keys.js';

describe('IDs from content', () => {
  it('a job ID depends on the model key and the images, nothing else', () => {
    const m = modelKeyOf('f'.repeat(64), 'classify', 5);
    expect(jobIdOf(m, ['a', 'b'])).toBe(jobIdOf(m, ['a', 'b']));
    expect(jobIdOf(m, ['a', 'b'])).not.toBe(jobIdOf(m, ['b', 'a']));
    expect(jobIdOf(m, ['a'])).not.toBe(jobIdOf(modelKeyOf('e'.repeat(64), 'classify', 5), ['a']));
    expect(jobIdOf(m, ['a'])).toMatch(/^[0-9a-f]{16}-[0-9a-f]{32}$/); // no ':' (BullMQ's key separator)
  });

  it('results differ by model, task and top-k (top-k only for classify)', () => {
    const sha = '0'.repeat(64);
    expect(modelKeyOf(sha, 'classify', 5)).not.toBe(modelKeyOf(sha, 'classify', 3));
    expect(modelKeyOf(sha, 'classify', 5)).not.toBe(modelKeyOf(sha, 'embed', 5));
    expect(modelKeyOf(sha, 'embed', 5)).toBe(modelKeyOf(sha, 'embed', 0));
  });
});
