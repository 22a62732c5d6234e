// `pnpm mobilenet` works from every folder of the repository: the root and each package and app have a `mobilenet`
// script (pnpm runs the nearest package.json's), and relative paths are read from where the command was typed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WORKSPACE_PACKAGES, scriptCwd } from './script-cwd.js';
import { BIN, ROOT } from '../test/testing.js';

const PNPM = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).packageManager as string;

/** Every package.json of the workspace: the root, packages/*, apps/*. */
const manifests = [
  ROOT,
  ...['packages', 'apps'].flatMap((d) => readdirSync(join(ROOT, d)).map((name) => join(ROOT, d, name))),
].filter((dir) => existsSync(join(dir, 'package.json')));

/** Where npm fetches from and caches to (a mirror, a CI cache): kept, as a user's own configuration. */
const KEEP = /^npm_config_(registry|cache|userconfig)$/i;

/** An environment as a user's shell has it: none of the variables the pnpm running this test set for its scripts. */
function shellEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (/^(npm_|INIT_CWD$|PNPM_)/i.test(k) && !KEEP.test(k)) delete env[k];
  return env;
}

const made: string[] = [];
afterAll(() => {
  for (const d of made.reverse()) rmSync(d, { recursive: true, force: true });
});

describe('pnpm mobilenet from any folder', () => {
  it('the root and every package and app have a mobilenet script that runs the CLI, and bin.ts knows their names', () => {
    for (const dir of manifests) {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name: string;
        scripts: Record<string, string>;
      };
      const script = pkg.scripts.mobilenet;
      expect(script, `${pkg.name}: scripts.mobilenet`).toMatch(/^node --import tsx --conditions=source \S+bin\.ts$/);
      expect(resolve(dir, script!.split(' ').at(-1)!), pkg.name).toBe(BIN);
      expect(WORKSPACE_PACKAGES.has(pkg.name), pkg.name).toBe(true);
    }
    expect(scriptCwd({ npm_lifecycle_event: 'mobilenet', npm_package_name: 'demo', INIT_CWD: '/x' })).toBe('/x');
    expect(scriptCwd({ npm_lifecycle_event: 'mobilenet', npm_package_name: 'my-app', INIT_CWD: '/x' })).toBe(undefined);
    expect(scriptCwd({ npm_lifecycle_event: 'test', npm_package_name: 'demo', INIT_CWD: '/x' })).toBe(undefined);
  });

  // Typed in a folder of the root, of a package and of an app (a scratch folder under each, ignored by git); the
  // file lands in that folder, not in the package's.
  for (const where of ['.', 'packages/core/src', 'apps/bench']) {
    it(`npx -y ${PNPM} mobilenet export ... -o rel.onnx, typed in ${where}/.cache/...`, () => {
      const base = join(ROOT, where, '.cache');
      if (!existsSync(base)) made.push(base);
      mkdirSync(base, { recursive: true });
      const dir = mkdtempSync(join(base, 'pnpm-mobilenet-'));
      made.push(dir);
      const args = ['-y', PNPM, 'mobilenet', 'export', '--arch', 'v3-small', '--width', '0.35', '--resolution', '32'];
      const r = spawnSync('npx', [...args, '-o', 'rel.onnx'], { cwd: dir, env: shellEnv(), encoding: 'utf8' });
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stderr).toContain('wrote rel.onnx:');
      expect(existsSync(join(dir, 'rel.onnx')), relative(ROOT, dir)).toBe(true);
      expect(existsSync(join(dirname(dir), 'rel.onnx'))).toBe(false);
    });
  }
});
