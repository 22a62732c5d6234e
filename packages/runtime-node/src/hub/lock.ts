import { hostname } from 'node:os';
import { closeSync, openSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { HubError } from './errors.js';

/** How long a lock may go without its holder touching it before it is taken as left by a crash. */
const STALE_MS = 30_000;
const POLL_MS = 50;

interface Holder {
  readonly pid: number;
  readonly host: string;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

function holder(path: string): Holder | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8'));
    return Number.isSafeInteger(v.pid) && typeof v.host === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a lock file was left by a process that is gone: same host and its pid dead, or untouched too long. */
function stale(path: string): boolean {
  try {
    const h = holder(path);
    if (h && h.host === hostname() && !alive(h.pid)) return true;
    return Date.now() - statSync(path).mtimeMs > STALE_MS;
  } catch {
    return false;
  }
}

/** Removes a stale lock by renaming it first, so that of two processes that both saw it stale only one removes it. */
function breakLock(path: string): void {
  const aside = `${path}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    renameSync(path, aside);
    unlinkSync(aside);
  } catch {
    // Another process broke it first, or it was released: try again to take it.
  }
}

/**
 * Runs `fn` holding an exclusive lock file (created with O_EXCL, holding our pid and host, touched while held),
 * so that two processes fetching the same file end with one download. A lock whose holder died is broken; a live
 * one is waited for, up to `waitMs`. `what` names the weights in the error.
 */
export async function withLock<T>(path: string, waitMs: number, what: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + waitMs;
  let fd: number | undefined;
  while (fd === undefined) {
    try {
      fd = openSync(path, 'wx', 0o644);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST')
        throw new HubError('cache', `${what}: cannot create the lock file ${path}: ${(e as Error).message}`);
      if (stale(path)) {
        breakLock(path);
        continue;
      }
      if (Date.now() > deadline) {
        const h = holder(path);
        throw new HubError(
          'lock',
          `${what}: another process${h ? ` (pid ${h.pid} on ${h.host})` : ''} has been fetching it for over ${waitMs / 1000} s (lock ${path}); try again when it is done, or remove the lock if no such process runs`,
        );
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
  writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }));
  closeSync(fd);
  const touch = setInterval(() => {
    try {
      const now = new Date();
      utimesSync(path, now, now);
    } catch {
      // Broken by someone who took it for stale: the download still verifies its bytes before the rename.
    }
  }, STALE_MS / 3);
  touch.unref();
  try {
    return await fn();
  } finally {
    clearInterval(touch);
    const h = holder(path);
    if (h && h.pid === process.pid && h.host === hostname()) {
      try {
        unlinkSync(path);
      } catch {
        // Already gone.
      }
    }
  }
}
