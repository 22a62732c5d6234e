// Test helpers for the CLI's tests. Not part of the package (excluded from the build).
import { type SpawnOptions, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createDeflate, crc32 } from 'node:zlib';
import { main } from '../src/index.js';

export const ROOT = resolve(import.meta.dirname, '../../..');
// tsx's loader in this node process, not the tsx command: the command relays a signal to its child and, when the
// child does not answer within 30 ms (its thread busy in onnxruntime's run), SIGKILLs it and exits 130 itself, so a
// test of Ctrl-C would see a killed process instead of the CLI's own handling.
const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
export const BIN = join(ROOT, 'packages/cli/src/bin.ts');

/** Runs the CLI in this process (cheap: no tsx start-up per case) and collects what it writes. */
export async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t), isTty: false });
  return { code, out, err };
}

/** Folders made by `tmp()`, removed by `cleanTmp()` (call it from afterAll). */
const made: string[] = [];
export const tmp = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'mobilenet-cli-'));
  made.push(dir);
  return dir;
};
export const cleanTmp = (): void =>
  made.splice(0).forEach((d) => {
    rmSync(d, { recursive: true, force: true });
  });

export interface Spawned {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Starts node with tsx's loader on `args` (a .ts file and its arguments); `onStart` may signal it. */
export function spawnTsx(
  args: readonly string[],
  options: SpawnOptions & { onStart?: (pid: number) => void } = {},
): Promise<Spawned> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', TSX_LOADER, '--conditions=source', ...args], {
      ...options,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => void (stdout += d));
    child.stderr!.on('data', (d) => void (stderr += d));
    child.on('error', fail);
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr }));
    options.onStart?.(child.pid!);
  });
}

/**
 * Runs `mobilenet ARGS` in a child process and reports its peak resident memory (getrusage's maxRSS, in bytes)
 * from the child itself, so no /usr/bin/time is needed.
 */
export async function runMeasured(args: readonly string[]): Promise<Spawned & { peakRss: number }> {
  const script = `const { main } = await import(${JSON.stringify(join(ROOT, 'packages/cli/src/index.ts'))});
process.exitCode = await main(${JSON.stringify(args)});
process.stderr.write('\\npeak-rss ' + process.resourceUsage().maxRSS * 1024 + '\\n');`;
  const r = await spawnTsx(['--input-type=module', '-e', script]);
  const peak = /peak-rss (\d+)/.exec(r.stderr);
  if (!peak) throw new Error(`no peak-rss line from the child (exit ${r.code}): ${r.stderr.slice(-2000)}`);
  return { ...r, peakRss: Number(peak[1]) };
}

/**
 * A black RGB PNG of any size, made without decoding or encoding a picture: the deflate stream of its zero rows is
 * written chunk by chunk, so a 16384 x 16384 file (805 MB of pixels, 3.5 MB on disk) takes a second and little memory.
 */
export async function blankPng(width: number, height: number): Promise<Buffer> {
  const rowBytes = 1 + width * 3;
  const rowsPerChunk = Math.max(1, Math.floor((4 << 20) / rowBytes));
  const zeros = Buffer.alloc(rowsPerChunk * rowBytes);
  const deflate = createDeflate({ level: 1 });
  const parts: Buffer[] = [];
  deflate.on('data', (c: Buffer) => parts.push(c));
  const ended = new Promise((r) => deflate.on('end', r));
  for (let y = 0; y < height; y += rowsPerChunk) {
    const rows = Math.min(rowsPerChunk, height - y);
    if (!deflate.write(zeros.subarray(0, rows * rowBytes))) await new Promise((r) => deflate.once('drain', r));
  }
  deflate.end();
  await ended;
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([head, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    chunk('IHDR', ihdr),
    chunk('IDAT', Buffer.concat(parts)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
