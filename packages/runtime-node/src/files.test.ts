// The one guarded reader (issue 23): special files are refused by kind without being read, a regular file past
// its cap is refused without being held, and each refusal names the file and what was expected. A FIFO read by
// plain readFile blocks forever, /dev/zero grows without end: every case here must answer within seconds.
import { spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FileError, linesOf, openRegularSync, readRegular, readRegularSync } from './files.js';
import { decodeImage } from './image.js';

const dir = mkdtempSync(join(tmpdir(), 'mobilenet-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A FIFO in the test folder, or undefined where mkfifo is missing (then the case says so). */
function fifo(name: string): string | undefined {
  const path = join(dir, name);
  const made = spawnSync('mkfifo', [path]);
  if (made.status === 0) return path;
  if (process.env.CI) throw new Error(`mkfifo failed in CI: ${made.stderr}`);
  console.warn(`skipped a FIFO case: mkfifo failed (${made.error?.message ?? made.stderr})`);
  return undefined;
}

// Should a regression block a reader on a FIFO, a writer opening and closing it ends that read, so the thread
// pool is not left holding a blocked thread after the test has timed out.
const fifos: string[] = [];
afterEach(() => {
  for (const f of fifos.splice(0)) {
    try {
      closeSync(openSync(f, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // ENXIO: nobody is reading it, which is the expected state
    }
  }
});

const QUICK_MS = 5000;
const rules = { what: 'an image file', maxBytes: 1 << 20 };

async function refusedQuickly(path: string, message: string | RegExp): Promise<FileError> {
  const t0 = performance.now();
  const e = await readRegular(path, rules).then(
    () => new Error('read'),
    (x: Error) => x,
  );
  expect(performance.now() - t0).toBeLessThan(QUICK_MS);
  expect(e).toBeInstanceOf(FileError);
  expect(e.message).toMatch(message);
  // The synchronous reader says the same.
  expect(() => readRegularSync(path, rules)).toThrow(e.message);
  return e as FileError;
}

describe('readRegular refuses what is not a regular file, by kind, without reading it', () => {
  it('a FIFO with no writer (readFile would block forever)', async () => {
    const path = fifo('pipe.jpg');
    if (!path) return;
    fifos.push(path);
    await refusedQuickly(path, `'${path}' is a FIFO (named pipe); expected an image file (a regular file)`);
  }, 20_000);

  it('/dev/zero, /dev/urandom and a symbolic link to /dev/zero (readFile would grow to gigabytes)', async () => {
    await refusedQuickly('/dev/zero', "'/dev/zero' is a character device; expected an image file (a regular file)");
    await refusedQuickly('/dev/urandom', "'/dev/urandom' is a character device; expected an image file");
    const link = join(dir, 'zero.png');
    symlinkSync('/dev/zero', link);
    await refusedQuickly(link, `'${link}' is a character device; expected an image file`);
  }, 20_000);

  it('a folder, a socket, a missing file, a dangling link', async () => {
    await refusedQuickly(dir, `'${dir}' is a directory; expected an image file (a regular file)`);
    const socket = join(dir, 'sock.jpg');
    const server = createServer();
    await new Promise<void>((done) => server.listen(socket, done));
    try {
      await refusedQuickly(socket, `'${socket}' is a socket; expected an image file (a regular file)`);
    } finally {
      server.close();
    }
    await refusedQuickly(join(dir, 'none.jpg'), `'${join(dir, 'none.jpg')}': no such file`);
    symlinkSync(join(dir, 'gone'), join(dir, 'dangling.jpg'));
    await refusedQuickly(join(dir, 'dangling.jpg'), 'no such file');
  }, 20_000);

  it('a regular file over the cap (a sparse 3 GB file) is refused from fstat, not read', async () => {
    const big = join(dir, 'sparse.jpg');
    writeFileSync(big, '');
    truncateSync(big, 3 * 2 ** 30);
    const e = await refusedQuickly(
      big,
      `'${big}' is 3221225472 bytes, more than the 1048576 allowed for an image file`,
    );
    expect(e.problem).toBe('too-large');
  }, 20_000);

  it('a file that says size 0 and holds more (/proc) is read up to the cap and no further', async () => {
    expect(readRegularSync('/proc/self/status', { what: 'a text file', maxBytes: 1 << 20 }).length).toBeGreaterThan(
      100,
    );
    await expect(readRegular('/proc/self/status', { what: 'a text file', maxBytes: 50 })).rejects.toThrow(
      "'/proc/self/status': holds more than the 50 bytes allowed for a text file",
    );
  });

  it('noFollow refuses a link at the path itself; without it a link to a regular file is read', async () => {
    const target = join(dir, 'real.txt');
    writeFileSync(target, 'hello');
    const link = join(dir, 'link.txt');
    symlinkSync(target, link);
    expect(readRegularSync(link, rules).toString()).toBe('hello');
    expect(() => openRegularSync(link, { ...rules, noFollow: true })).toThrow(
      `'${link}': cannot read: a symbolic link (refused here) or a loop of links (ELOOP); expected an image file`,
    );
  });
});

describe('decodeImage of a path goes through the guarded reader', () => {
  it('a FIFO, /dev/zero and a link to /dev/urandom given as images are refused by name, quickly', async () => {
    const pipe = fifo('image.png');
    if (pipe) fifos.push(pipe);
    const link = join(dir, 'random.jpg');
    symlinkSync('/dev/urandom', link);
    for (const [path, kind] of [
      ...(pipe ? [[pipe, 'a FIFO (named pipe)']] : []),
      ['/dev/zero', 'a character device'],
      [link, 'a character device'],
    ]) {
      const t0 = performance.now();
      await expect(decodeImage(path!, path!)).rejects.toThrow(
        `${path}: is ${kind}; expected an image file (a regular file)`,
      );
      expect(performance.now() - t0).toBeLessThan(QUICK_MS);
    }
  }, 20_000);
});

describe('linesOf', () => {
  it('streams lines as bytes with their offsets, flags a torn last line, and refuses a line past the cap', () => {
    const path = join(dir, 'lines.txt');
    writeFileSync(path, Buffer.concat([Buffer.from('one\n\xff\xfe\ntwo\nthr', 'latin1')]));
    const fd = openSync(path, 'r');
    try {
      const lines = [...linesOf(fd, path, 100)].map((l) => [l.line.toString('latin1'), l.at, l.number, l.complete]);
      expect(lines).toEqual([
        ['one', 0, 1, true],
        ['\xff\xfe', 4, 2, true],
        ['two', 7, 3, true],
        ['thr', 11, 4, false],
      ]);
      expect(() => [...linesOf(fd, path, 2)]).toThrow(`'${path}': line 1 is longer than the 2 bytes allowed`);
    } finally {
      closeSync(fd);
    }
  });
});
