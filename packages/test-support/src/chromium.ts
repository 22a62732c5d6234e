// Headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) and a Vite app served by its preview
// server on 127.0.0.1: what the demo's e2e test and the bench's browser cells both drive.
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { type PreviewServer, preview } from 'vite';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Why Chromium cannot start here, or null. */
export function chromiumMissing(): string | null {
  return existsSync(CHROMIUM) ? null : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
}

/** Headless, as root, offline: no sandbox, nothing that phones home, a fresh profile. */
const FLAGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Starts headless Chromium; with `webgpu`, SwiftShader's fallback adapter stands in when there is no GPU. */
export function launchChromium(o: { readonly webgpu: boolean }): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...FLAGS, ...(o.webgpu ? ['--enable-unsafe-webgpu'] : ['--disable-gpu'])],
  });
}

/** Serves a built Vite app (its vite.config.ts headers included) on 127.0.0.1 at a free port. */
export async function servePreview(o: {
  readonly root: string;
  readonly outDir?: string;
}): Promise<{ server: PreviewServer; url: string }> {
  const server = await preview({
    root: o.root,
    logLevel: 'error',
    ...(o.outDir && { build: { outDir: o.outDir } }),
    preview: { port: 0, host: '127.0.0.1', strictPort: false },
  });
  const url = server.resolvedUrls?.local[0];
  if (!url) {
    await server.close();
    throw new Error(`vite preview of ${o.root} did not report its URL`);
  }
  return { server, url };
}

/** page.evaluate has no timeout of its own: a hung backend must fail, not hang. The timer cannot keep the process alive. */
export function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<T>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms)),
  );
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
