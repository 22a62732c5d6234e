// The WebGPU probe's environment: where XDG_RUNTIME_DIR is unset or invalid, Vulkan's window-system code complains
// on stderr although WebGPU works without a display; Dawn is then started with a private folder in its place.
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validRuntimeDir, webgpuEnv } from './probes.js';

const scratch = mkdtempSync(join(tmpdir(), 'mobilenet-probes-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe.skipIf(process.platform !== 'linux')('XDG_RUNTIME_DIR for Dawn', () => {
  it('a valid one (absolute, a folder of this user, mode 0700) is kept as it is', () => {
    const mine = join(scratch, 'mine');
    mkdirSync(mine, { mode: 0o700 });
    expect(validRuntimeDir(mine)).toBe(true);
    const env = { XDG_RUNTIME_DIR: mine, OTHER: 'x' };
    expect(webgpuEnv(env)).toBe(env);
  });

  it('unset, relative, missing or open to others: a private 0700 folder stands in, the same one each time', () => {
    const open = join(scratch, 'open');
    mkdirSync(open, { mode: 0o755 });
    const given = [undefined, 'run/user', join(scratch, 'missing'), open];
    const dirs = given.map((d) => webgpuEnv({ ...(d !== undefined && { XDG_RUNTIME_DIR: d }), OTHER: 'x' }));
    for (const env of dirs) {
      expect(env.OTHER).toBe('x');
      expect(env.XDG_RUNTIME_DIR).toBe(dirs[0]!.XDG_RUNTIME_DIR);
    }
    const dir = dirs[0]!.XDG_RUNTIME_DIR!;
    expect(dir).not.toBe(open);
    expect(validRuntimeDir(dir)).toBe(true);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });
});
