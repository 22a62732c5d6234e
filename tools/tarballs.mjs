#!/usr/bin/env node
// `pnpm tarballs [DIR]`: `npm pack` of every published package (each one's prepack builds it and writes the manifest
// npm ships: see tools/prepack.mjs) into DIR, by default `tarballs` in the folder the command was typed in. The
// tarballs install with plain npm anywhere: `npm install DIR/*.tgz`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const typed = process.env.INIT_CWD ?? process.cwd();
const dest = resolve(typed, process.argv[2] ?? 'tarballs');
mkdirSync(dest, { recursive: true });

const packages = readdirSync(join(ROOT, 'packages'))
  .map((name) => join(ROOT, 'packages', name))
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .filter((dir) => !JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).private);
for (const dir of packages) {
  const out = execFileSync('npm', ['pack', '--pack-destination', dest, '--loglevel=error'], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  console.log(join(dest, out.trim().split('\n').at(-1)));
}
