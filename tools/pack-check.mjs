#!/usr/bin/env node
// Consumes the packages the way a user outside this repo does: packs every publishable package twice, with `npm pack`
// in its folder (of a copy of the packages: npm rewrites package.json while it packs) and with `pnpm pack` (each package's prepack builds it; tools/prepack.mjs), lints each tarball with
// publint, checks that both tools ship the same files and manifest, runs `pnpm publish -r --dry-run` (what
// `changeset publish` runs), installs the npm tarballs with plain npm into a scratch project in a temp dir (no
// workspace, no pnpm), and there runs an ESM import of core, runtime-node and tools, tsc with skipLibCheck false, and the
// installed `mobilenet` binary. turbo builds dist/ first (`pnpm turbo run pack:check`), so the prepacks find it fresh.
// Only the npm registry is needed: onnxruntime-node's CUDA download is skipped (ONNXRUNTIME_NODE_INSTALL=skip).
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  cpSync,
  symlinkSync,
  existsSync,
  openSync,
  readSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkTarball, readTarball } from './pack-check/tarball.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HERE = join(ROOT, 'tools', 'pack-check');
const IMAGE = join(ROOT, 'packages', 'runtime-node', 'test', 'fixtures', 'scene.jpg');
const requireRoot = createRequire(join(ROOT, 'package.json'));
const times = [];

/** Runs a step and records how long it took (the step's cost is part of every test run, so it is printed). */
async function step(name, fn) {
  const t0 = performance.now();
  const out = await fn();
  times.push([name, (performance.now() - t0) / 1000]);
  return out;
}

function run(cmd, args, opts = {}) {
  try {
    return execFileSync(cmd, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 << 20,
      ...opts,
    });
  } catch (e) {
    throw new Error(
      `${[cmd, ...args].join(' ')} (in ${opts.cwd ?? ROOT}) exited ${e.status}:\n${e.stdout ?? ''}${e.stderr ?? ''}`,
    );
  }
}

/** pnpm as this run was started (`npx -y pnpm@X test` sets npm_execpath), else the pinned version through npx. */
function pnpm(args, opts) {
  const exec = process.env.npm_execpath;
  if (exec && /pnpm/.test(exec)) {
    // pnpm 12 is a native executable; older ones are a JS file for node.
    const head = Buffer.alloc(4);
    const fd = openSync(exec, 'r');
    readSync(fd, head, 0, 4, 0);
    closeSync(fd);
    const native = head.toString('latin1') === '\x7fELF';
    return native ? run(exec, args, opts) : run(process.execPath, [exec, ...args], opts);
  }
  const pinned = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).packageManager;
  return run('npx', ['-y', pinned, ...args], opts);
}

function publishable() {
  const dir = join(ROOT, 'packages');
  return readdirSync(dir)
    .map((name) => ({ dir: join(dir, name), pkg: JSON.parse(readFileSync(join(dir, name, 'package.json'), 'utf8')) }))
    .filter(({ pkg }) => !pkg.private);
}

function fail(message) {
  throw new Error(`pack-check: ${message}`);
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'mobilenet-pack-check-'));
  const keep = process.env.PACK_CHECK_KEEP === '1';
  try {
    const packages = publishable();
    const tarballs = await step('npm pack (in each package)', () => npmPackAll(packages, join(work, 'npm')));
    const pnpmTarballs = await step('pnpm pack', () => packAll(packages, join(work, 'tarballs')));
    await step('publint + tarball contents', () => lintAll([...tarballs, ...pnpmTarballs]));
    await step('npm pack = pnpm pack', () => sameTarballs(tarballs, pnpmTarballs));
    await step('pnpm publish -r --dry-run', () => publishDryRun(packages));
    const app = join(work, 'app');
    await step('npm install (scratch project)', () => install(app, tarballs));
    await step('tsc --noEmit (skipLibCheck false)', () => typecheck(app));
    const fromBin = await step('mobilenet bin', () => runBin(app));
    await step('ESM import: core + runtime-node + tools', () => runConsumer(app, fromBin));
  } finally {
    if (keep) console.log(`pack-check: scratch kept in ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
  const total = times.reduce((s, [, t]) => s + t, 0);
  for (const [name, t] of times) console.log(`  ${name.padEnd(40)} ${t.toFixed(1)} s`);
  console.log(`pack-check: ok in ${total.toFixed(1)} s`);
}

/** The tarball of each package in `dest`, by the name npm and pnpm give it. */
function tarballsIn(packages, dest, tool) {
  const made = readdirSync(dest).filter((f) => f.endsWith('.tgz'));
  return packages.map(({ pkg }) => {
    const file = made.find((f) => f === `${pkg.name.replace(/^@/, '').replace('/', '-')}-${pkg.version}.tgz`);
    if (!file)
      fail(
        `${pkg.name}: ${tool} pack left no ${pkg.name}@${pkg.version} tarball in ${dest} (found: ${made.join(', ')})`,
      );
    return { name: pkg.name, file: join(dest, file), tool };
  });
}

/** One recursive `pnpm pack` (pnpm rewrites workspace: ranges and applies publishConfig); one tarball per package. */
function packAll(packages, dest) {
  pnpm(['-r', ...packages.flatMap(({ pkg }) => ['--filter', pkg.name]), 'pack', '--pack-destination', dest]);
  return tarballsIn(packages, dest, 'pnpm');
}

/**
 * A copy of the publishable packages (built: dist/ as turbo left it, timestamps kept, so no prepack rebuilds) and of
 * tools/prepack.mjs, laid out as in the repository, with the packages' node_modules linked. `npm pack` rewrites
 * package.json while it packs: in the working tree, tests running beside this check would resolve the packages
 * through the rewritten manifest (no `source` condition) and pnpm would see manifests out of step with its lockfile.
 */
function mirror(packages, at) {
  mkdirSync(join(at, 'tools'), { recursive: true });
  copyFileSync(join(ROOT, 'tools', 'prepack.mjs'), join(at, 'tools', 'prepack.mjs'));
  copyFileSync(join(ROOT, 'package.json'), join(at, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(at, 'node_modules'));
  return packages.map(({ dir, pkg }) => {
    const copy = join(at, 'packages', basename(dir));
    cpSync(dir, copy, {
      recursive: true,
      preserveTimestamps: true,
      filter: (src) => !/[/\\](node_modules|\.turbo)$/.test(src),
    });
    if (existsSync(join(dir, 'node_modules'))) symlinkSync(join(dir, 'node_modules'), join(copy, 'node_modules'));
    return { dir: copy, pkg };
  });
}

/**
 * `npm pack` in each package folder (of a mirror of the packages, see `mirror`), as a user outside pnpm would: the
 * package's prepack (tools/prepack.mjs) builds it where stale and writes the manifest npm must ship (workspace: ranges
 * replaced, publishConfig applied), its postpack restores the original.
 */
function npmPackAll(packages, dest) {
  mkdirSync(dest, { recursive: true });
  const copies = mirror(packages, join(dest, '..', 'mirror'));
  for (const { dir } of copies)
    run('npm', ['pack', '--pack-destination', dest, '--loglevel=error'], { cwd: dir, env: npmEnv() });
  for (const { dir, pkg } of copies) {
    const original = readFileSync(join(ROOT, 'packages', basename(dir), 'package.json'), 'utf8');
    if (existsSync(join(dir, '.package.json.prepack'))) fail(`${pkg.name}: npm pack left package.json rewritten`);
    if (readFileSync(join(dir, 'package.json'), 'utf8') !== original)
      fail(`${pkg.name}: postpack did not restore package.json`);
  }
  return tarballsIn(packages, dest, 'npm');
}

/** What an installer reads of a manifest. */
const installed = (pkg) =>
  JSON.stringify([pkg.name, pkg.version, pkg.type, pkg.dependencies, pkg.exports, pkg.bin, pkg.engines, pkg.files]);

/** npm's and pnpm's tarballs of a package hold the same files and the same manifest as far as an installer goes. */
function sameTarballs(fromNpm, fromPnpm) {
  const problems = [];
  fromNpm.forEach((a, i) => {
    const b = fromPnpm[i];
    const [fa, fb] = [readTarball(readFileSync(a.file)), readTarball(readFileSync(b.file))];
    const [la, lb] = [[...fa.keys()].sort(), [...fb.keys()].sort()];
    const only = (x, y) => x.filter((f) => !y.includes(f));
    if (only(la, lb).length || only(lb, la).length)
      problems.push(
        `${a.name}: npm pack ships [${only(la, lb).join(', ')}] more, pnpm pack [${only(lb, la).join(', ')}] more`,
      );
    const [ma, mb] = [JSON.parse(fa.get('package.json')), JSON.parse(fb.get('package.json'))];
    if (installed(ma) !== installed(mb))
      problems.push(`${a.name}: the manifests differ: npm ${installed(ma)}, pnpm ${installed(mb)}`);
  });
  if (problems.length) fail(`npm pack and pnpm pack differ:\n  ${problems.join('\n  ')}`);
}

/** What `changeset publish` runs, without publishing: every package packs and would go to the registry. */
function publishDryRun(packages) {
  const out = pnpm([
    '-r',
    ...packages.flatMap(({ pkg }) => ['--filter', pkg.name]),
    'publish',
    '--dry-run',
    '--no-git-checks',
  ]);
  for (const { pkg } of packages)
    if (!out.includes(`${pkg.name}@${pkg.version}`))
      fail(`pnpm publish --dry-run did not name ${pkg.name}@${pkg.version}:\n${out}`);
}

async function lintAll(tarballs) {
  const { publint } = await import('publint');
  const { formatMessage } = await import('publint/utils');
  const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
  const problems = [];
  for (const { name: pkgName, file, tool } of tarballs) {
    const name = `${pkgName} (${tool} pack)`;
    const buf = readFileSync(file);
    const { messages, pkg } = await publint({
      pack: { tarball: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) },
      strict: true,
    });
    for (const m of messages) {
      const line = `${name}: publint ${m.type} ${m.code}: ${formatMessage(m, pkg, { color: false })}`;
      if (m.type === 'suggestion') console.log(`  ${line}`);
      else problems.push(line);
    }
    problems.push(...checkTarball(name, readTarball(buf), license));
  }
  if (problems.length) fail(`${problems.length} problem(s) in the packed packages:\n  ${problems.join('\n  ')}`);
  console.log(`pack-check: ${tarballs.length} tarballs, publint (strict) and contents clean`);
}

/**
 * The environment for plain npm: variables pnpm sets for its scripts would steer npm (workspace paths, pnpm's user
 * agent and config): dropped, except where npm should fetch from and cache to (a mirror, a CI cache).
 */
function npmEnv() {
  const env = { ...process.env, npm_config_update_notifier: 'false' };
  const keep = new Set([
    'npm_config_update_notifier',
    'npm_config_registry',
    'npm_config_cache',
    'npm_config_userconfig',
  ]);
  for (const k of Object.keys(env))
    if (/^npm_(config_|package_|lifecycle_|execpath|node_execpath|command)/i.test(k) && !keep.has(k.toLowerCase()))
      delete env[k];
  return env;
}

function install(app, tarballs) {
  mkdirSync(app, { recursive: true });
  writeFileSync(
    join(app, 'package.json'),
    `${JSON.stringify({ name: 'pack-check-app', private: true, type: 'module' }, null, 2)}\n`,
  );
  for (const f of ['consumer.mjs', 'consumer.ts', 'tsconfig.json']) copyFileSync(join(HERE, f), join(app, f));
  copyFileSync(IMAGE, join(app, 'scene.jpg'));
  // The consumer's own @types/node, the version this workspace resolved (cached by npm after the first run).
  const typesNode = JSON.parse(readFileSync(requireRoot.resolve('@types/node/package.json'), 'utf8')).version;
  const env = { ...npmEnv(), ONNXRUNTIME_NODE_INSTALL: 'skip' };
  const t0 = performance.now();
  run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--loglevel=error',
      ...tarballs.map((t) => t.file),
      `@types/node@${typesNode}`,
    ],
    { cwd: app, env },
  );
  console.log(
    `pack-check: npm install of ${tarballs.length} tarballs took ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}

/** The README examples, one module each, so the docs cannot drift from the API (bundler-only `?url` ones aside). */
function readmeExamples(app) {
  const names = [];
  for (const pkg of readdirSync(join(ROOT, 'packages'))) {
    const readme = join(ROOT, 'packages', pkg, 'README.md');
    if (!existsSync(readme)) continue;
    const blocks = [...readFileSync(readme, 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
    blocks.forEach((code, i) => {
      if (code.includes('?url')) return;
      const name = `readme-${pkg}-${i + 1}.ts`;
      writeFileSync(join(app, name), `${code}export {};\n`);
      names.push(name);
    });
  }
  return names;
}

function typecheck(app) {
  const config = JSON.parse(readFileSync(join(app, 'tsconfig.json'), 'utf8'));
  config.files.push(...readmeExamples(app));
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(config, null, 2));
  const tsc = join(dirname(requireRoot.resolve('typescript/package.json')), 'bin', 'tsc');
  run(process.execPath, [tsc, '-p', join(app, 'tsconfig.json')], { cwd: app });
}

/** The installed `mobilenet` command: --help, info, export, classify. Returns what the checks below compare. */
function runBin(app) {
  const bin = join(app, 'node_modules', '.bin', 'mobilenet');
  const mobilenet = (...args) => run(bin, args, { cwd: app });
  if (!/Usage: mobilenet <command>/.test(mobilenet('--help'))) fail('mobilenet --help printed no usage');
  const table = mobilenet('info', '--arch', 'v2');
  const info = JSON.parse(mobilenet('info', '--arch', 'v2', '--json'));
  if (!table.includes('features.0.0')) fail(`mobilenet info --arch v2 printed no layer table:\n${table}`);
  mobilenet('export', '--arch', 'v3-small', '--convention', 'torchvision', '--init', 'fan-in', '-o', 'v3s.onnx');
  const classified = JSON.parse(mobilenet('classify', 'scene.jpg', '--model', 'v3s.onnx', '--top', '5', '--json'));
  return { info, classified };
}

/** The library in the scratch project, against the workspace's own build of core and the CLI's answers. */
async function runConsumer(app, { info, classified }) {
  const got = JSON.parse(run(process.execPath, ['consumer.mjs', 'v3s.onnx', 'scene.jpg'], { cwd: app }));
  const core = await import('@mobilenet/core');
  const { createHash } = await import('node:crypto');
  const { graph } = core.buildModel({ arch: 'v3-small', width: 0.75, convention: 'torchvision', weights: 42 });
  const want = createHash('sha256')
    .update(core.toOnnx(graph, { opset: 17, batch: 'dynamic' }))
    .digest('hex');
  if (got.sha256 !== want)
    fail(`installed core wrote ONNX bytes with sha256 ${got.sha256}; the workspace writes ${want}`);
  if (got.readBackNodes !== got.builtNodes)
    fail(`fromOnnx read ${got.readBackNodes} nodes back; ${got.builtNodes} were written`);
  const v2 = core.analyze(core.buildModel({ arch: 'v2' }).graph);
  if (info.params !== v2.params || info.macs !== v2.macs)
    fail(`mobilenet info --arch v2 says ${info.params} params, ${info.macs} MACs; core says ${v2.params}, ${v2.macs}`);
  const lib = got.classify;
  const cli = classified[0];
  if (!lib?.ok || !cli?.ok || lib.top.length !== 5)
    fail(`classify failed: library ${JSON.stringify(lib)}, CLI ${JSON.stringify(cli)}`);
  lib.top.forEach((p, i) => {
    const c = cli.top[i];
    if (p.index !== c.index || p.label !== c.label || Math.abs(p.probability - c.probability) > 1e-6) {
      fail(`top-${i + 1} differs: library ${JSON.stringify(p)}, mobilenet classify ${JSON.stringify(c)}`);
    }
    if (!(p.probability > 0 && p.probability < 1) || (i > 0 && p.probability > lib.top[i - 1].probability))
      fail(`top-5 not a sorted distribution: ${JSON.stringify(lib.top)}`);
  });
  for (const name of ['createSession', 'availableBackends', 'decodeWebImage']) {
    if (!got.webExports.includes(name))
      fail(`@mobilenet/runtime-web does not export ${name}: ${got.webExports.join(', ')}`);
  }
  for (const name of ['calibrate', 'checkFloat16', 'checkInt8', 'compareModels', 'fidelity', 'profileModel']) {
    if (!got.toolsExports.includes(name))
      fail(`@mobilenet/tools does not export ${name}: ${got.toolsExports.join(', ')}`);
  }
  const same = got.toolsFidelity;
  if (same.images !== 1 || same.top1Agreement !== 1 || same.maxAbsDiff !== 0)
    fail(`@mobilenet/tools' fidelity of logits against themselves: ${JSON.stringify(same)}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
