import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { isLoopback } from '@mobilenet/core';
import { HubError } from './errors.js';

/** How requests behave: limits, retries and the proxy, all bounded. */
export interface HttpSettings {
  /** No answer (headers, or body data) within this long fails the attempt. */
  readonly timeoutMs: number;
  /** Attempts after the first on 5xx, 429 and dropped connections. */
  readonly retries: number;
  /** The first retry's wait; doubled each time. */
  readonly backoffMs: number;
  readonly maxRedirects: number;
  /** `HTTPS_PROXY`/`HTTP_PROXY` and `NO_PROXY`, as read from the environment. */
  readonly proxy: { readonly https?: string; readonly http?: string; readonly noProxy: readonly string[] };
  readonly userAgent: string;
}

export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The URL that answered (after the redirects followed). */
  readonly url: URL;
  /** Headers of the first answer: the hub's LFS headers live there, not on the CDN's. */
  readonly first: IncomingHttpHeaders;
  readonly body: IncomingMessage;
}

const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);
/** Socket errors of a host that cannot be reached at all: retrying does not help, the message says "no network". */
const UNREACHABLE = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'EADDRNOTAVAIL']);

/** Whether NO_PROXY names this host ('*', a host, '.domain' or 'domain' suffix, host:port). */
function bypassProxy(url: URL, noProxy: readonly string[]): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return noProxy.some((entry) => {
    const e = entry.trim().toLowerCase();
    if (!e) return false;
    if (e === '*') return true;
    const [h, port] = e.split(/:(?=\d+$)/);
    if (port && port !== (url.port || (url.protocol === 'https:' ? '443' : '80'))) return false;
    const d = h!.replace(/^\*?\./, '');
    return host === d || host.endsWith(`.${d}`);
  });
}

function proxyFor(url: URL, s: HttpSettings): URL | undefined {
  const p = url.protocol === 'https:' ? s.proxy.https : s.proxy.http;
  if (!p || bypassProxy(url, s.proxy.noProxy)) return undefined;
  try {
    return new URL(p.includes('://') ? p : `http://${p}`);
  } catch {
    return undefined;
  }
}

/** A TLS socket to `url` through an HTTP proxy's CONNECT tunnel. */
function tunnel(url: URL, proxy: URL, timeoutMs: number): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const port = url.port || '443';
    const auth = proxy.username
      ? {
          'Proxy-Authorization': `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}`,
        }
      : {};
    const req = http.request({
      host: proxy.hostname,
      port: proxy.port || 80,
      method: 'CONNECT',
      path: `${url.hostname}:${port}`,
      headers: { host: `${url.hostname}:${port}`, ...auth },
      timeout: timeoutMs,
    });
    req.once('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(new Error(`proxy ${proxy.host} refused CONNECT to ${url.host}: ${res.statusCode}`));
        return;
      }
      resolve(tls.connect({ socket, servername: url.hostname }));
    });
    req.once('timeout', () => req.destroy(Object.assign(new Error('proxy CONNECT timed out'), { code: 'ETIMEDOUT' })));
    req.once('error', reject);
    req.end();
  });
}

/** One request, no redirects followed; resolves when the headers arrive. */
async function once(
  method: string,
  url: URL,
  headers: Record<string, string>,
  s: HttpSettings,
): Promise<IncomingMessage> {
  const proxy = proxyFor(url, s);
  const secure = url.protocol === 'https:';
  const socket = proxy && secure ? await tunnel(url, proxy, s.timeoutMs) : undefined;
  return new Promise((resolve, reject) => {
    const viaProxy = proxy && !secure;
    const options: https.RequestOptions = {
      method,
      host: viaProxy ? proxy.hostname : url.hostname,
      port: viaProxy ? proxy.port || 80 : url.port || (secure ? 443 : 80),
      path: viaProxy ? url.href : `${url.pathname}${url.search}`,
      headers: { host: url.host, 'user-agent': s.userAgent, 'accept-encoding': 'identity', ...headers },
      ...(socket && { createConnection: () => socket }),
      agent: false,
    };
    const req = (secure ? https : http).request(options, (res) => {
      // Body inactivity, from here on: the caller reads it; a stalled server fails the read, not the whole wait.
      req.setTimeout(0);
      req.removeAllListeners('timeout');
      res.socket.setTimeout(s.timeoutMs, () =>
        res.destroy(Object.assign(new Error(`no data for ${s.timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })),
      );
      resolve(res);
    });
    req.setTimeout(s.timeoutMs, () =>
      req.destroy(Object.assign(new Error(`no answer within ${s.timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })),
    );
    req.once('error', reject);
    req.end();
  });
}

/** A redirect we follow: http(s), and never from https to a plain http host that is not this machine. */
function nextUrl(from: URL, location: string | undefined, what: string): URL {
  let to: URL;
  try {
    to = new URL(location ?? '', from);
  } catch {
    throw new HubError('redirect', `${what}: ${from.href} redirected to an invalid URL`);
  }
  if (!location || (to.protocol !== 'https:' && to.protocol !== 'http:'))
    throw new HubError(
      'redirect',
      `${what}: ${from.href} redirected to '${String(location).slice(0, 100)}', not an http(s) URL`,
    );
  if (to.protocol === 'http:' && !isLoopback(to))
    throw new HubError(
      'redirect',
      `${what}: ${from.href} redirected to plain http ${to.host}: refused (only loopback hosts may use http)`,
    );
  return to;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RequestOptions {
  readonly method?: 'GET' | 'HEAD';
  readonly headers?: Record<string, string>;
  /** 'all' follows every redirect; 'relative' only those on the same host (huggingface_hub's HEAD: the CDN's is read, not followed). */
  readonly follow: 'all' | 'relative';
  /** Names the weights in messages. */
  readonly what: string;
}

/** Why a socket error happened, in words: the code and the message. */
export const socketWhy = (e: unknown): string => {
  const err = e as NodeJS.ErrnoException;
  return `${err.code ? `${err.code}: ` : ''}${err.message}`.replace(/^(\w+): \1\b:? ?/, '$1: ');
};

/**
 * A request with redirects (bounded, loops refused, Authorization dropped when the host changes), timeouts, and
 * retries with backoff on 5xx, 429 and dropped connections. A host that cannot be reached fails at once with
 * 'no-network'. Resolves with the final answer, whose body the caller reads (or discards).
 */
export async function request(start: URL, o: RequestOptions, s: HttpSettings): Promise<Answer> {
  let lastError = '';
  for (let attempt = 0; attempt <= s.retries; attempt++) {
    if (attempt > 0) await sleep(s.backoffMs * 2 ** (attempt - 1));
    let url = start;
    let headers = { ...o.headers };
    let first: IncomingHttpHeaders | undefined;
    const seen = new Set<string>();
    try {
      for (let hop = 0; ; hop++) {
        seen.add(url.href);
        const res = await once(o.method ?? 'GET', url, headers, s);
        first ??= res.headers;
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && status !== 304) {
          res.resume();
          const to = nextUrl(url, res.headers.location, o.what);
          if (o.follow === 'relative' && to.host !== url.host)
            return { status, headers: res.headers, url, first, body: res };
          if (seen.has(to.href))
            throw new HubError('redirect', `${o.what}: redirect loop: ${to.href} was visited already`);
          if (hop >= s.maxRedirects)
            throw new HubError('redirect', `${o.what}: more than ${s.maxRedirects} redirects from ${start.href}`);
          if (to.host !== url.host) {
            const { authorization: _, ...rest } = headers;
            headers = rest;
          }
          url = to;
          continue;
        }
        if (RETRY_STATUS.has(status) && attempt < s.retries) {
          res.resume();
          lastError = `HTTP ${status}`;
          break;
        }
        return { status, headers: res.headers, url, first, body: res };
      }
    } catch (e) {
      if (e instanceof HubError) throw e;
      const code = (e as NodeJS.ErrnoException).code ?? '';
      if (UNREACHABLE.has(code))
        throw new HubError('no-network', `${o.what}: cannot reach ${url.host} (${socketWhy(e)})`);
      lastError = socketWhy(e);
      if (attempt === s.retries)
        throw new HubError(
          code === 'ETIMEDOUT' ? 'timeout' : 'http',
          `${o.what}: ${url.href}: ${lastError}${s.retries ? ` (after ${s.retries + 1} attempts)` : ''}`,
        );
    }
  }
  throw new HubError('http', `${o.what}: ${start.href}: ${lastError} (after ${s.retries + 1} attempts)`);
}
