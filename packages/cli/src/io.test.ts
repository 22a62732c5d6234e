import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  symlinkSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { writeFileAtomic } from './io.js';
import { ROOT, cleanTmp, run, spawnTsx, tmp } from '../test/testing.js';

// The temporary name's random part, fixed by a test to force a collision with a planted link.
const fixedRandom = vi.hoisted(() => ({ bytes: undefined as Buffer | undefined }));
vi.mock('node:crypto', async (original) => {
  const crypto = await original<typeof import('node:crypto')>();
  return { ...crypto, randomBytes: (n: number) => fixedRandom.bytes?.subarray(0, n) ?? crypto.randomBytes(n) };
});

afterAll(cleanTmp);

const root = process.getuid?.() === 0;
const small = ['--arch', 'v3-small', '--resolution', '32', '--width', '0.35'];

/** A file another user cares about, to plant links to. */
function victim(dir: string): string {
  const file = join(dir, 'victim');
  writeFileSync(file, 'precious');
  return file;
}

describe('writing the output', () => {
  it('a link planted under the old predictable temporary name is neither followed nor touched', async () => {
    const dir = tmp();
    const secret = victim(tmp());
    const planted = join(dir, `.m.onnx.${process.pid}.tmp`);
    symlinkSync(secret, planted);
    const r = await run('export', ...small, '-o', join(dir, 'm.onnx'));
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(secret, 'utf8')).toBe('precious');
    expect(lstatSync(planted).isSymbolicLink()).toBe(true);
    expect(readdirSync(dir).sort()).toEqual([`.m.onnx.${process.pid}.tmp`, 'm.onnx']);
  });

  it('a link planted under the random name is refused (O_EXCL) and another name is drawn', async () => {
    const dir = tmp();
    const secret = victim(tmp());
    fixedRandom.bytes = Buffer.from('0123456789abcdef', 'hex');
    symlinkSync(secret, join(dir, '.m.onnx.0123456789abcdef.tmp'));
    try {
      // First draw collides with the link; release the fixed bytes so the retry draws a fresh name.
      const write = writeFileAtomic(join(dir, 'm.onnx'), new Uint8Array([1, 2, 3]));
      fixedRandom.bytes = undefined;
      await write;
    } finally {
      fixedRandom.bytes = undefined;
    }
    expect(readFileSync(secret, 'utf8')).toBe('precious');
    expect([...readFileSync(join(dir, 'm.onnx'))]).toEqual([1, 2, 3]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual(['.m.onnx.0123456789abcdef.tmp']);
  });

  it('the file gets the mode the umask allows, not the private mode of the temporary file', async () => {
    const dir = tmp();
    await writeFileAtomic(join(dir, 'm.bin'), new Uint8Array(10));
    expect(statSync(join(dir, 'm.bin')).mode & 0o777).toBe(0o666 & ~process.umask());
  });

  it('--force never replaces a link, a FIFO, a device or a directory: each refused by name and kind', async () => {
    const dir = tmp();
    const secret = victim(tmp());
    const link = join(dir, 'link.onnx');
    symlinkSync(secret, link);
    expect(await run('export', ...small, '-o', link, '--force')).toMatchObject({
      code: 2,
      err: `mobilenet export: option -o: '${link}' is a symbolic link; refusing to write through it (name the file itself, or remove the link)\n`,
    });
    expect(readFileSync(secret, 'utf8')).toBe('precious');
    expect(await run('export', ...small, '-o', '/dev/null', '--force')).toMatchObject({
      code: 2,
      err: "mobilenet export: option -o: '/dev/null' is a character device; only a regular file can be replaced\n",
    });
    expect(await run('export', ...small, '-o', dir, '--force')).toMatchObject({
      code: 2,
      err: `mobilenet export: option -o: '${dir}' is a directory; expected the path of a file to write\n`,
    });
    const fifo = join(dir, 'pipe.onnx');
    const made = spawnSync('mkfifo', [fifo]);
    if (made.status === 0) {
      expect(await run('export', ...small, '-o', fifo, '--force')).toMatchObject({
        code: 2,
        err: `mobilenet export: option -o: '${fifo}' is a FIFO (named pipe); only a regular file can be replaced\n`,
      });
      expect(lstatSync(fifo).isFIFO()).toBe(true);
    } else if (process.env.CI) throw new Error(`mkfifo failed in CI: ${made.stderr}`);
    else console.warn(`skipped the FIFO case: mkfifo failed (${made.error?.message ?? made.stderr})`);
    expect(readdirSync(dir).sort()).toEqual(
      readdirSync(dir)
        .filter((f) => !f.endsWith('.tmp'))
        .sort(),
    );
  });

  it('a failure while writing removes the temporary file and names the target, not the temporary file', async () => {
    const dir = tmp();
    // The target turns into a non-empty folder after the checks: the rename fails at the very end.
    const target = join(dir, 'm.onnx');
    mkdirSync(target);
    writeFileSync(join(target, 'inside'), '');
    const e = await writeFileAtomic(target, new Uint8Array(1 << 20)).catch((x: Error) => x);
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).message).toMatch(new RegExp(`^cannot write '${target}': .*\\((EISDIR|ENOTEMPTY|EEXIST)\\)$`));
    expect(readdirSync(dir)).toEqual(['m.onnx']);
    const gone = await writeFileAtomic(join(dir, 'no', 'such', 'm.onnx'), new Uint8Array(1)).catch((x: Error) => x);
    expect((gone as Error).message).toBe(
      `cannot write '${join(dir, 'no', 'such', 'm.onnx')}': no such file or directory (ENOENT)`,
    );
  });

  it.skipIf(root)('EACCES names the file the user asked for (skipped as root: permissions do not apply)', async () => {
    const dir = tmp();
    chmodSync(dir, 0o500);
    try {
      const e = await writeFileAtomic(join(dir, 'm.onnx'), new Uint8Array(1)).catch((x: Error) => x);
      expect((e as Error).message).toBe(`cannot write '${join(dir, 'm.onnx')}': permission denied (EACCES)`);
    } finally {
      chmodSync(dir, 0o700);
    }
  });
});

/** Spawns `args`, sends `signal` as soon as a temporary file appears in `dir`, and returns how the child ended. */
async function interrupt(dir: string, args: string[], signal: NodeJS.Signals) {
  let pid = 0;
  let sent = false;
  const watcher = watch(dir, (_, name) => {
    if (!sent && name?.endsWith('.tmp') && pid) {
      sent = true;
      process.kill(pid, signal);
    }
  });
  try {
    const r = await spawnTsx(args, { onStart: (p) => void (pid = p) });
    return { ...r, sent };
  } finally {
    watcher.close();
  }
}

describe('an interrupted write leaves nothing behind', () => {
  const writer = (out: string) => [
    '--input-type=module',
    '-e',
    `const { writeFileAtomic } = await import(${JSON.stringify(join(ROOT, 'packages/cli/src/io.ts'))});
await writeFileAtomic(${JSON.stringify(out)}, new Uint8Array(512 << 20), { signals: true });`,
  ];

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s during a 512 MB write: exit %i, no temporary file, no output', async (signal, code) => {
    const dir = tmp();
    const r = await interrupt(dir, writer(join(dir, 'big.onnx')), signal);
    expect(r.sent, r.stderr).toBe(true);
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toContain(`interrupted (${signal}); removed the unfinished file`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('mobilenet export interrupted as its file appears: no temporary file, whatever the timing', async () => {
    const dir = tmp();
    const out = join(dir, 'm.onnx');
    const r = await interrupt(
      dir,
      [join(ROOT, 'packages/cli/src/bin.ts'), 'export', '--arch', 'v2', '-o', out],
      'SIGINT',
    );
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // Either the signal won (our handler said so, exit 130, nothing written) or the rename did: a complete file. (After
    // the write, tsx's own signal relay also exits 130, so the code alone does not tell which.)
    if (r.stderr.includes('interrupted (SIGINT); removed the unfinished file')) {
      expect([r.code, readdirSync(dir)]).toEqual([130, []]);
    } else {
      expect(readdirSync(dir)).toEqual(['m.onnx']);
      expect((await run('info', out, '--json')).code).toBe(0);
    }
  });
});

describe('files the user names', () => {
  it('a directory given as --weights, to info, or as --model is refused by name', async () => {
    const dir = tmp();
    expect(await run('export', ...small, '--weights', dir, '-o', join(dir, 'm.onnx'))).toMatchObject({
      code: 2,
      err: `mobilenet export: option --weights: '${dir}' is a directory; expected a checkpoint file (.pth, .safetensors) (a regular file)\n`,
    });
    expect(await run('info', dir)).toMatchObject({
      code: 2,
      err: `mobilenet info: '${dir}' is a directory; expected an ONNX file (a regular file)\n`,
    });
    expect(await run('classify', 'x.png', '--model', dir)).toMatchObject({
      code: 2,
      err: `mobilenet classify: option --model: '${dir}' is a directory; expected an .onnx file (a regular file)\n`,
    });
    expect(await run('info', '/dev/zero')).toMatchObject({
      code: 2,
      err: "mobilenet info: '/dev/zero' is a character device; expected an ONNX file (a regular file)\n",
    });
  });

  it("bad JSON in a file's mobilenet.config names the file and the key", async () => {
    const dir = tmp();
    const file = join(dir, 'm.onnx');
    expect((await run('export', ...small, '-o', file)).code).toBe(0);
    const bytes = readFileSync(file);
    const at = bytes.indexOf('{"arch"');
    bytes[at] = 0x5b; // '[' : no longer JSON
    writeFileSync(file, bytes);
    const r = await run('info', file);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      new RegExp(
        `^mobilenet info: ${file}: metadata 'mobilenet.config': expected a JSON object, received invalid JSON \\(\\d+ characters\\)\n$`,
      ),
    );
  });

  it('through the pnpm script, relative paths are read from where the user typed the command', async () => {
    const dir = tmp();
    expect((await run('export', ...small, '-o', join(dir, 'm.onnx'))).code).toBe(0);
    const env = (event: string) => ({
      ...process.env,
      npm_package_name: 'mobilenet-ts',
      npm_lifecycle_event: event,
      INIT_CWD: dir,
    });
    const bin = join(ROOT, 'packages/cli/src/bin.ts');
    const viaScript = await spawnTsx([bin, 'info', 'm.onnx'], { cwd: ROOT, env: env('mobilenet') });
    expect(viaScript.code, viaScript.stderr).toBe(0);
    expect(viaScript.stdout).toMatch(/^m\.onnx: mobilenet_v3_small/);
    const otherScript = await spawnTsx([bin, 'info', 'm.onnx'], { cwd: ROOT, env: env('test') });
    expect(otherScript).toMatchObject({ code: 2, stderr: "mobilenet info: file 'm.onnx' does not exist\n" });
  });
});
