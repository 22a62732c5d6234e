#!/usr/bin/env node
// `pnpm tarballs [DIR]`: `pnpm pack` of every published package (each one's prepack builds it; tools/prepack.mjs)
// into DIR, by default `tarballs` in the folder the command was typed in. The tarballs install with plain npm
// anywhere: `npm install DIR/*.tgz`. pnpm writes the published manifest into the tarball and leaves package.json
// alone, so this is safe while tests or editors read the working tree (`npm pack` in a package folder gives the same
// tarball, rewriting package.json for the moment it packs).
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const typed = process.env.INIT_CWD ?? process.cwd();
const dest = resolve(typed, process.argv[2] ?? 'tarballs');
mkdirSync(dest, { recursive: true });

/** pnpm as this script was started (`pnpm tarballs` sets npm_execpath to it), else the pinned version through npx. */
function pnpm(args, cwd) {
  const exec = process.env.npm_execpath;
  const options = { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] };
  if (exec && /pnpm/.test(exec)) {
    const head = Buffer.alloc(4);
    const fd = openSync(exec, 'r');
    readSync(fd, head, 0, 4, 0);
    closeSync(fd);
    // pnpm 12 is a native executable; older ones are a JS file for node.
    if (head.toString('latin1') === '\x7fELF') return execFileSync(exec, args, options);
    return execFileSync(process.execPath, [exec, ...args], options);
  }
  const pinned = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).packageManager;
  return execFileSync('npx', ['-y', pinned, ...args], options);
}

const packages = readdirSync(join(ROOT, 'packages'))
  .map((name) => join(ROOT, 'packages', name))
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .filter((dir) => !JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).private);
for (const dir of packages) {
  const out = pnpm(['pack', '--pack-destination', dest], dir);
  console.log(out.trim().split('\n').at(-1));
}
