// Every command the README shows, run as a user types it: each line of its ```sh blocks and each inline
// `npx -y pnpm@...` command, through bash, with the environment of a shell (none of the variables of the pnpm that
// runs this test).
//
// Run verbatim: every `mobilenet` line and the tarball route (`pnpm tarballs`, then `npm install` of them into a new
// project), in a scratch folder of the repository with the files they name made there (cat.jpg, dog.png, photos/,
// calib/, eval/, a torchvision-layout mobilenet_v2-b0353104.pth and a timm-layout mobilenetv4_conv_small.safetensors,
// both with formula weights); `npx -y pnpm@... demo` and the install half of the quick start's lines at the
// repository root.
// Not verbatim, and why:
// - `... && npx -y pnpm@... test` is not run: it is the command that runs this test (it would recurse). CI runs it
//   verbatim (.ci/run); this test checks that .ci/run holds the README's line.
// - `... && npx -y pnpm@... bench` takes about 3 minutes: it runs with `--smoke` appended (the same harness, every
//   default engine, one small model), and must print its table.
// - `npx -y pnpm@... --filter demo dev` is a server that runs until stopped: it must serve the page within
//   STEP_TIMEOUT_MS, then it is stopped. `mobilenet serve` likewise: it must answer GET /v2/health/ready.
// - Lines whose `# comment` says "network" are skipped, by name: they download pretrained weights (torchvision's,
//   checked against the hash in their file name, which no local server can serve) and CI has no network. Each must
//   name a pretrained name (`torchvision:`, `hf-hub:`), so no other line can dodge the test that way; the CLI's
//   pretrained test (pretrained.test.ts) runs the same commands against a local hub. Every other line runs with
//   empty PyTorch and Hugging Face caches in the scratch folder and MOBILENET_OFFLINE=1, so a line that would reach
//   the network unmarked fails here instead.
// turbo builds the four packages before this package's tests (turbo.json, `@mobilenet/cli#test`): `pnpm tarballs`
// then finds dist/ fresh instead of building it beside turbo's own build.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { ARCHS, type CheckpointTensor, writeSafetensors } from '@mobilenet/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { P, stateDictPickle } from '@mobilenet/core/testing';
import { formulaCheckpoint } from '@mobilenet/core/testing';
import { makeZip } from '@mobilenet/core/testing';
import { STEP_TIMEOUT_MS } from '../../../vitest.shared.js';
import { ROOT } from '../test/testing.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const FIX = join(ROOT, 'packages/runtime-node/test/fixtures');
const CORE_FIX = join(ROOT, 'packages/core/test/fixtures');

/** The README's commands: each line of a ```sh block (its `# comment` dropped) and each inline `npx -y ...` span. */
function readmeCommands(markdown: string): string[] {
  const fenced = [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) =>
    m[1]!
      .split('\n')
      .map((l) => l.replace(/\s+#\s.*$/, '').trim())
      .filter((l) => l && !l.startsWith('#')),
  );
  const prose = markdown.replace(/```[\s\S]*?```/g, '');
  const inline = [...prose.matchAll(/`(npx -y [^`]+)`/g)].map((m) => m[1]!);
  return [...fenced, ...inline];
}

/** The ```sh lines whose `# comment` says they need the network (pretrained downloads), their comment dropped. */
function networkCommands(markdown: string): Set<string> {
  return new Set(
    [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) =>
      m[1]!
        .split('\n')
        .filter((l) => /\s#\s.*\bnetwork\b/.test(l))
        .map((l) => l.replace(/\s+#\s.*$/, '').trim()),
    ),
  );
}

/** Where npm fetches from and caches to (a mirror, a CI cache): kept, as a user's own configuration. */
const KEEP = /^npm_config_(registry|cache|userconfig)$/i;

/**
 * MOBILENET_README_ONLINE=1 runs the README's network lines too (a machine that reaches the hubs); CI has no such
 * network, and pretrained.test.ts runs the same commands against a local hub instead.
 */
const ONLINE = process.env.MOBILENET_README_ONLINE === '1';

/** An environment as a user's shell has it: none of the variables the pnpm running this test set for its scripts. */
function shellEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const k of Object.keys(env))
    if (/^(npm_|INIT_CWD$|PNPM_|VITEST|FORCE_COLOR$)/i.test(k) && !KEEP.test(k)) delete env[k];
  // Pretrained weights: empty caches of this run's own, and no network (the lines that need it are skipped).
  for (const k of [
    'TORCH_HOME',
    'HF_HOME',
    'HF_HUB_CACHE',
    'XDG_CACHE_HOME',
    'HF_ENDPOINT',
    'MOBILENET_TORCHVISION_URL',
  ])
    delete env[k];
  if (scratch)
    Object.assign(env, {
      TORCH_HOME: join(scratch, '.torch'),
      HF_HOME: join(scratch, '.hf'),
      MOBILENET_CACHE: join(scratch, '.mobilenet'),
    });
  if (!ONLINE) env.MOBILENET_OFFLINE = '1';
  return env;
}

interface Ran {
  readonly code: number | null;
  readonly out: string;
}

/** Runs one command line through bash in `cwd`; a command still running after `ms` is killed (with its group). */
function sh(line: string, cwd: string, ms = STEP_TIMEOUT_MS): Promise<Ran> {
  return new Promise((done, fail) => {
    const child = spawn('bash', ['-c', line], {
      cwd,
      env: shellEnv(),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => void (out += d));
    child.stderr!.on('data', (d) => void (out += d));
    const timer = setTimeout(() => kill(child), ms);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, out });
    });
  });
}

function kill(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {
    // already gone
  }
}

/** A server command: resolves with its first http URL and its output so far, then stops it (and its children). */
function serve(line: string, cwd: string, path = ''): Promise<{ url: string | undefined; page: string; out: string }> {
  return new Promise((done, fail) => {
    const child = spawn('bash', ['-c', line], {
      cwd,
      env: shellEnv(),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let settled = false;
    const finish = async (url: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      let page = '';
      try {
        if (url) page = await (await fetch(new URL(path, url))).text();
      } finally {
        kill(child);
      }
      done({ url, page, out });
    };
    const onData = (d: Buffer) => {
      out += d;
      const plain = out.replace(/\u001b\[[0-9;]*m/g, '');
      const url = /https?:\/\/(?:127\.0\.0\.1|localhost):\d+\/?/.exec(plain)?.[0];
      if (url) void finish(url).catch(fail);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('error', fail);
    child.on('close', () => void finish(undefined));
    const timer = setTimeout(() => void finish(undefined), STEP_TIMEOUT_MS);
  });
}

/**
 * A PyTorch zip checkpoint (torch.save's layout: archive/data.pkl, archive/data/<key>, archive/version) of a state
 * dict, written here without PyTorch.
 */
function torchZip(tensors: Record<string, CheckpointTensor>): Uint8Array {
  const entries: Record<string, Uint8Array> = { 'archive/version': new TextEncoder().encode('3\n') };
  const specs = Object.fromEntries(
    Object.entries(tensors).map(([name, t], i) => {
      entries[`archive/data/${i}`] = t.bytes;
      const stride = t.shape.map((_, d) => t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
      return [
        name,
        {
          storage: String(i),
          storageType: t.dtype === 'I64' ? 'LongStorage' : 'FloatStorage',
          numel: t.shape.reduce((a, b) => a * b, 1),
          offset: 0,
          size: t.shape.map((n) => P.int(n)),
          stride: stride.map((n) => P.int(n)),
        },
      ];
    }),
  );
  return makeZip({ 'archive/data.pkl': stateDictPickle(specs), ...entries });
}

function keysOf(file: string, pick: (json: never) => Record<string, number[]>): Record<string, number[]> {
  return pick(JSON.parse(readFileSync(join(CORE_FIX, file), 'utf8')) as never);
}

/** The files the README's commands name, made in `dir`. */
function makeFixtures(dir: string): void {
  copyFileSync(join(FIX, 'scene.jpg'), join(dir, 'cat.jpg'));
  copyFileSync(join(FIX, 'scene.png'), join(dir, 'dog.png'));
  const photos = ['scene.jpg', 'tall.png', 'scene.webp', 'rgba.png', 'gray.png', 'cmyk.jpg', 'scene.png', 'gray16.png'];
  for (const sub of ['photos', 'photos/2024', 'calib', 'eval']) mkdirSync(join(dir, sub), { recursive: true });
  const copy = (files: string[], to: string) => {
    for (const f of files) copyFileSync(join(FIX, f), join(dir, to, f));
  };
  copy(photos.slice(0, 3), 'photos');
  copy(photos.slice(3, 5), 'photos/2024');
  copy(photos, 'calib');
  copy(photos.slice(0, 4), 'eval');
  const v2 = keysOf('torchvision-keys.json', (j: { v2: { keys: Record<string, number[]> } }) => j.v2.keys);
  writeFileSync(join(dir, 'mobilenet_v2-b0353104.pth'), torchZip(formulaCheckpoint(v2)));
  const v4 = keysOf(
    'timm-v4/timm-v4-keys.json',
    (j: { models: Record<string, { keys: Record<string, number[]> }> }) => j.models.mobilenetv4_conv_small!.keys,
  );
  writeFileSync(join(dir, 'mobilenetv4_conv_small.safetensors'), writeSafetensors(formulaCheckpoint(v4)));
  // digits/0 ... digits/9 for `mobilenet train`: real labelled images from scikit-learn, as the README says.
  const digits = spawnSync('/usr/bin/python3', [
    join(ROOT, 'tools/fixtures/image_folders.py'),
    join(dir, 'digits'),
    '--per-class',
    '10',
  ]);
  if (digits.status !== 0) throw new Error(`image_folders.py: ${digits.stderr}`);
}

const commands = readmeCommands(README);
const network = networkCommands(README);
const PNPM = 'npx -y pnpm@';
const isTest = (c: string) => / test$/.test(c) && c.includes(PNPM);
const isBench = (c: string) => / bench$/.test(c) && c.includes(PNPM);
const isServer = (c: string) => / dev$/.test(c) || / mobilenet serve /.test(c);
const isDemo = (c: string) => / demo$/.test(c) && c.startsWith(PNPM);
const isMobilenet = (c: string) => / mobilenet /.test(c);
const isTarballs = (c: string) => / tarballs( |$)/.test(c) && c.startsWith(PNPM);

let scratch = '';
beforeAll(() => {
  mkdirSync(join(ROOT, '.cache'), { recursive: true });
  scratch = mkdtempSync(join(ROOT, '.cache', 'readme-'));
  makeFixtures(scratch);
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('README.md: every command runs as shown', () => {
  it('the README shows the commands this test knows how to run (and CI runs its test line verbatim)', () => {
    expect(commands.filter(isMobilenet).length).toBeGreaterThanOrEqual(10);
    expect(commands.filter(isBench)).toHaveLength(1);
    expect(commands.filter(isDemo)).toHaveLength(1);
    expect(commands.filter(isTarballs)).toHaveLength(1);
    const [test] = commands.filter(isTest);
    expect(test).toBeDefined();
    expect(readFileSync(join(ROOT, '.ci/run'), 'utf8')).toContain(`\n${test}\n`);
    for (const c of commands) expect(c, 'a placeholder the shell cannot run').not.toMatch(/\[|\]|\.\.\.|<[A-Za-z]/);
    for (const c of network) expect(c, 'a "network" line names pretrained weights').toMatch(/ (torchvision|hf-hub):/);
  });

  for (const command of commands.filter((c) => !isTest(c) && network.has(c)))
    it.skipIf(!ONLINE)(
      `$ ${command}${ONLINE ? '' : ' (network: skipped without MOBILENET_README_ONLINE=1; pretrained.test.ts runs these on a local hub)'}`,
      async () => {
        // A path into the repository (the demo's sample photo) runs at its root; the rest in the scratch folder.
        const r = await sh(command, / apps\//.test(command) ? ROOT : scratch);
        expect(r.code, r.out).toBe(0);
      },
    );

  for (const command of commands.filter((c) => !isTest(c) && !network.has(c))) {
    it(`$ ${command}${isBench(command) ? ' --smoke' : ''}`, async () => {
      if (isServer(command)) {
        // `mobilenet serve` runs where the lines before it wrote models/; it must answer its readiness probe.
        const model = / mobilenet serve /.test(command);
        const r = await serve(command, model ? scratch : ROOT, model ? 'v2/health/ready' : '');
        expect(r.url, r.out).toBeDefined();
        expect(r.page).toContain(model ? '{"ready":true}' : '<html');
        return;
      }
      if (isBench(command)) {
        const r = await sh(`${command} --smoke`, ROOT);
        expect(r.code, r.out).toBe(0);
        expect(r.out).toMatch(/arch +width +res +params +MACs +engine/);
        return;
      }
      if (isDemo(command)) {
        const r = await sh(command, ROOT);
        expect(r.code, r.out).toBe(0);
        const written = readdirSync(join(ROOT, 'out')).filter((f) => f.endsWith('.onnx'));
        for (const arch of ARCHS)
          expect(
            written.some((f) => f.startsWith(`mobilenet_${arch.replace(/-/g, '_')}_`)),
            arch,
          ).toBe(true);
        return;
      }
      // The repository's own jobs run at its root (above); every other command in the scratch folder.
      const cwd = scratch;
      const r = await sh(command, cwd);
      expect(r.code, r.out).toBe(0);
      const out = /(?:-o|--jsonl) (\S+)/.exec(command)?.[1];
      if (out) expect(existsSync(join(cwd, out)), `${out} written`).toBe(true);
      if (isTarballs(command))
        expect(readdirSync(join(cwd, 'tarballs')).sort()).toEqual(
          // One tarball per published package (every package folder whose package.json is not private).
          readdirSync(join(ROOT, 'packages'))
            .map((p) => ({ p, m: JSON.parse(readFileSync(join(ROOT, 'packages', p, 'package.json'), 'utf8')) }))
            .filter(({ m }) => m.private !== true)
            .map(({ p, m }) => `mobilenet-${p}-${m.version}.tgz`)
            .sort(),
        );
    });
  }
});
