#!/usr/bin/env node
// The `prepack` and `postpack` of every published package, so that `npm pack` and `pnpm pack` in a package folder
// both make a tarball that installs with plain npm:
//   prepack   builds the package (and the workspace packages it depends on, where their dist/ is older than their
//             src/), so dist/ ships. Under npm, which publishes package.json as it is on disk, it also writes the
//             package.json a registry must see, as pnpm does in memory: `workspace:` ranges replaced by the
//             versions in this repository, `publishConfig`'s fields (the `exports` without the `source` condition)
//             applied. The original is kept beside it and put back by postpack (or by the next prepack, after a
//             crash). `npm publish` is refused: it sends the registry the manifest it read before prepack.
//   postpack  (`--restore`) puts the original package.json back.
// Run from a package folder: node ../../tools/prepack.mjs [--restore]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HERE = process.cwd();
const MANIFEST = join(HERE, 'package.json');
const BACKUP = join(HERE, '.package.json.prepack');
/** publishConfig keys that npm reads itself; the others are fields pnpm substitutes when it packs. */
const NPM_KEYS = new Set(['access', 'tag', 'registry', 'provenance']);

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/** The workspace's packages by name: { dir, pkg }. */
function workspace() {
  const all = new Map();
  for (const group of ['packages', 'apps']) {
    if (!existsSync(join(ROOT, group))) continue;
    for (const name of readdirSync(join(ROOT, group))) {
      const dir = join(ROOT, group, name);
      if (existsSync(join(dir, 'package.json'))) {
        const pkg = readJson(join(dir, 'package.json'));
        all.set(pkg.name, { dir, pkg });
      }
    }
  }
  return all;
}

/** Newest modification time under `dir` (0 when it does not exist). */
function newest(dir) {
  if (!existsSync(dir)) return 0;
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return t;
}

function tsc(dir) {
  const require = createRequire(join(ROOT, 'package.json'));
  const bin = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
  execFileSync(process.execPath, [bin, '-p', 'tsconfig.build.json'], { cwd: dir, stdio: 'inherit' });
}

/** Builds a package whose dist/ is missing or older than its src/ (`pnpm build` or a pack a moment ago: nothing). */
function buildIfStale(dir) {
  const dist = join(dir, 'dist', 'index.js');
  if (!existsSync(dist) || statSync(dist).mtimeMs < newest(join(dir, 'src'))) tsc(dir);
}

/** Builds the workspace packages `pkg` depends on, depth first, where stale. */
function buildDependencies(pkg, all, done = new Set()) {
  for (const dep of Object.keys(pkg.dependencies ?? {})) {
    const ws = all.get(dep);
    if (!ws || done.has(dep)) continue;
    done.add(dep);
    buildDependencies(ws.pkg, all, done);
    buildIfStale(ws.dir);
  }
}

/** A `workspace:` range as the published one: `*` the exact version, `^`/`~` that prefix, else the range given. */
function published(range, version) {
  const spec = range.slice('workspace:'.length);
  if (spec === '*' || spec === '') return version;
  if (spec === '^' || spec === '~') return `${spec}${version}`;
  return spec;
}

/** The manifest a registry must see: what pnpm writes into its tarballs. */
function publishManifest(pkg, all) {
  const out = { ...pkg };
  for (const section of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    if (!out[section]) continue;
    out[section] = Object.fromEntries(
      Object.entries(out[section]).map(([name, range]) => {
        if (!range.startsWith('workspace:')) return [name, range];
        const ws = all.get(name);
        if (!ws)
          throw new Error(
            `prepack: ${pkg.name}: ${section}.${name} is '${range}', but no workspace package is named ${name}`,
          );
        return [name, published(range, ws.pkg.version)];
      }),
    );
  }
  delete out.devDependencies;
  const config = { ...(out.publishConfig ?? {}) };
  for (const [key, value] of Object.entries(config)) {
    if (NPM_KEYS.has(key)) continue;
    out[key] = value;
    delete config[key];
  }
  if (Object.keys(config).length) out.publishConfig = config;
  else delete out.publishConfig;
  return out;
}

/**
 * The tool running this script: the one npm_execpath names (each sets it to itself for its scripts), else the user
 * agent's first word ('npm/11.6.2 node/...', 'pnpm/12.4.2 ...'). An npm run from a pnpm script inherits pnpm's
 * user agent, never its npm_execpath.
 */
function packer() {
  const exec = process.env.npm_execpath ?? '';
  for (const tool of ['pnpm', 'yarn', 'npm'])
    if (new RegExp(`(^|[/\\\\])${tool}([-.][^/\\\\]*)?$`).test(exec)) return tool;
  return (process.env.npm_config_user_agent ?? '').split('/')[0];
}
const agent = packer();

/**
 * Packs of one package by npm take turns: one holds LOCK (a folder: made atomically) from its prepack to its postpack,
 * while package.json is rewritten. A lock older than STALE_MS is left from a pack that died (its postpack never ran).
 */
const LOCK = join(HERE, '.package.json.lock');
const STALE_MS = 10 * 60_000;
const lockAge = () => (existsSync(LOCK) ? Date.now() - statSync(LOCK).mtimeMs : Infinity);
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function lock() {
  for (let waited = 0; ; waited += 200) {
    try {
      mkdirSync(LOCK);
      return;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    if (lockAge() > STALE_MS) rmSync(LOCK, { recursive: true, force: true });
    else if (waited > STALE_MS) throw new Error(`prepack: ${LOCK} is held by another pack of this package`);
    else sleep(200);
  }
}

/** Puts the original package.json back (after a pack, or one that died) and lets the next pack of it go. */
function restore() {
  if (existsSync(BACKUP)) renameSync(BACKUP, MANIFEST);
  rmSync(LOCK, { recursive: true, force: true });
}

function prepack() {
  const rewrite = agent !== 'pnpm' && agent !== 'yarn';
  if (rewrite) lock();
  // A backup without a live pack beside it is left from one that died: the original goes back first.
  if (existsSync(BACKUP) && (rewrite || lockAge() > STALE_MS)) renameSync(BACKUP, MANIFEST);
  const pkg = readJson(MANIFEST);
  if (agent === 'npm' && process.env.npm_command === 'publish') {
    restore();
    console.error(
      `prepack: ${pkg.name}: publish with pnpm from the repository root (\`pnpm release\`, or \`pnpm publish -r\`): ` +
        'npm publish sends the registry the package.json it read before prepack, with its workspace: ranges. ' +
        '`npm pack` works, and its tarball installs with npm.',
    );
    process.exit(1);
  }
  const all = workspace();
  buildDependencies(pkg, all);
  buildIfStale(HERE);
  // pnpm (and yarn) write the published manifest themselves; npm packs the file on disk.
  if (!rewrite) return;
  writeFileSync(BACKUP, readFileSync(MANIFEST, 'utf8'));
  // Through a rename: anything reading package.json meanwhile (a test run, an editor) sees one whole file or the other.
  const next = join(HERE, '.package.json.next');
  writeFileSync(next, `${JSON.stringify(publishManifest(pkg, all), null, 2)}\n`);
  renameSync(next, MANIFEST);
}

// postpack: pnpm's packs hold no lock and rewrite nothing, so they leave npm's pack alone.
if (process.argv.includes('--restore')) {
  if (agent !== 'pnpm' && agent !== 'yarn') restore();
} else prepack();
