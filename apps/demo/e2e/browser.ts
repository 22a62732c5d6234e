// Headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) and the built demo served by Vite's
// preview server on 127.0.0.1, with the COOP/COEP headers of vite.config.ts.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { type PreviewServer, preview } from 'vite';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const DEMO = resolve(import.meta.dirname, '..');

/** Why the browser tests cannot run here, or null. In CI they must: there this is never a skip. */
export function browserMissing(): string | null {
  if (existsSync(CHROMIUM)) return null;
  const why = `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
  if (process.env.CI) throw new Error(`CI requires the browser tests: ${why}`);
  return why;
}

const FLAGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

export function launch(webgpu: boolean): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...FLAGS, ...(webgpu ? ['--enable-unsafe-webgpu'] : ['--disable-gpu'])] });
}

export async function serve(): Promise<{ server: PreviewServer; url: string }> {
  const server = await preview({ root: DEMO, logLevel: 'error', preview: { port: 0, host: '127.0.0.1', strictPort: false } });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite preview did not report its URL');
  return { server, url };
}

/** page.evaluate has no timeout of its own: a hung backend must fail the test, not hang it. */
export function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
