// Reads an npm tarball (gzipped ustar) and checks that its metadata points only at what it ships.
import { posix } from 'node:path';
import { gunzipSync } from 'node:zlib';

/** The files of a .tgz, by path without the leading `package/`. */
export function readTarball(gz) {
  const tar = gunzipSync(gz);
  const files = new Map();
  for (let off = 0; off + 512 <= tar.length; ) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start, len) =>
      header
        .subarray(start, start + len)
        .toString('utf8')
        .replace(/\0.*$/s, '');
    const prefix = field(345, 155);
    const name = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1);
    if (type === '0' || type === '')
      files.set(name.replace(/^package\//, ''), tar.subarray(off + 512, off + 512 + size));
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

/** Every string target in an exports/bin value, with the condition path that leads to it. */
function targets(value, path = []) {
  if (typeof value === 'string') return [{ path, target: value }];
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => targets(v, [...path, k]));
  return [];
}

/** Problems with one packed package, each a line naming the package, the file or field, and what is wrong. */
export function checkTarball(name, files, license) {
  const problems = [];
  const say = (msg) => problems.push(`${name}: ${msg}`);
  const pkg = JSON.parse(files.get('package.json').toString('utf8'));
  const shipped = (rel) => files.has(posix.normalize(rel.replace(/^\.\//, '')));

  for (const { path, target } of [...targets(pkg.exports, ['exports']), ...targets(pkg.bin, ['bin'])]) {
    if (path.includes('source'))
      say(`${path.join('.')} is a workspace-only condition (${target}); it must not be published`);
    else if (!shipped(target)) say(`${path.join('.')} points at ${target}, which is not in the tarball`);
  }
  for (const [section, deps] of Object.entries({
    dependencies: pkg.dependencies,
    peerDependencies: pkg.peerDependencies,
  })) {
    for (const [dep, range] of Object.entries(deps ?? {}))
      if (/^(workspace|link|file):/.test(range)) say(`${section}.${dep} is '${range}'`);
  }
  if (!files.has('README.md')) say('no README.md');
  if (!files.has('LICENSE')) say('no LICENSE');
  else if (files.get('LICENSE').toString('utf8') !== license) say('LICENSE differs from the repository root LICENSE');
  for (const [file, data] of files) {
    if (/\.test\.[cm]?[jt]s$|(^|\/)fixtures\//.test(file)) say(`${file} is a test file or fixture`);
    if (!file.endsWith('.map')) continue;
    const map = JSON.parse(data.toString('utf8'));
    for (const src of map.sources ?? []) {
      const rel = posix.join(posix.dirname(file), map.sourceRoot ?? '', src);
      if (!files.has(rel)) say(`${file} maps to ${rel}, which is not in the tarball`);
    }
  }
  return problems;
}
