// Test support, not part of the package: an HTTP server on 127.0.0.1 that answers the way download.pytorch.org and
// the Hugging Face hub do (HEAD and GET, the hub's 302 to a CDN on another host with X-Linked-Etag/X-Linked-Size/
// X-Repo-Commit, git-sha1 ETags for small files, Range requests, 404/401), with faults queued per path.
import { createHash } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  | { readonly status: number } // answer this status (500, 401, 404, ...)
  | { readonly drop: number } // send the headers and this many bytes, then cut the connection
  | { readonly stall: true } // send the headers, then nothing (a slow server)
  | { readonly silent: true } // accept the connection and answer nothing at all
  | { readonly corrupt: true } // the right length, one byte flipped
  | { readonly redirect: string } // 302 to this path (a loop when it points back)
  | { readonly length: number } // announce this Content-Length (a huge one), send nothing
  | { readonly slowMs: number }; // send the body in 16 pieces over this many ms

export interface Served {
  readonly method: string;
  readonly path: string;
  readonly range?: string;
  readonly authorization?: string;
  readonly host: string;
}

export interface FakeHub {
  /** http://127.0.0.1:PORT: HF_ENDPOINT, and MOBILENET_TORCHVISION_URL is `${url}/models`. */
  readonly url: string;
  /** The CDN's address (another port: another host, as cdn-lfs.hf.co is). */
  readonly cdnUrl: string;
  /** Every request, in order. */
  readonly log: Served[];
  /** Serves a torchvision file at /models/FILE. */
  torchvision(file: string, bytes: Uint8Array): void;
  /** A hub repository: files at /OWNER/NAME/resolve/main/FILE; `lfs` files go through the CDN. */
  repo(
    repo: string,
    files: Record<string, Uint8Array>,
    options?: { lfs?: readonly string[]; gated?: boolean; commit?: string },
  ): string;
  /** Queues faults for a path (each request takes the next; then it behaves). */
  fault(path: string, ...faults: Fault[]): void;
  /** Bodies (GET 200/206) served for a path. */
  bodies(path: string): number;
  close(): Promise<void>;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const gitSha1 = (b: Uint8Array) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

/** Sends `bytes` honouring a Range header, with the fault given. */
function serveBytes(
  req: IncomingMessage,
  res: ServerResponse,
  bytes: Uint8Array,
  fault: Fault | undefined,
  headers: Record<string, string>,
) {
  let body = Buffer.from(bytes);
  if (fault && 'corrupt' in fault) (body = Buffer.from(body)), (body[body.length >> 1]! ^= 0xff);
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  let status = 200;
  const out: Record<string, string> = {
    ...headers,
    'accept-ranges': 'bytes',
    'content-type': 'application/octet-stream',
  };
  if (m) {
    const from = Number(m[1]);
    if (from >= body.length) {
      res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      return;
    }
    out['content-range'] = `bytes ${from}-${body.length - 1}/${body.length}`;
    body = body.subarray(from);
    status = 206;
  }
  if (fault && 'length' in fault) {
    res.writeHead(200, { ...out, 'content-length': String(fault.length) });
    res.flushHeaders();
    setTimeout(() => res.destroy(), 50);
    return;
  }
  res.writeHead(status, { ...out, 'content-length': String(body.length) });
  if (req.method === 'HEAD') return void res.end();
  if (fault && 'drop' in fault) {
    res.write(body.subarray(0, fault.drop), () => setTimeout(() => res.socket?.destroy(), 20));
    return;
  }
  if (fault && 'stall' in fault) return void res.flushHeaders();
  if (fault && 'slowMs' in fault) {
    const piece = Math.ceil(body.length / 16);
    let i = 0;
    const timer = setInterval(() => {
      if (res.destroyed) return void clearInterval(timer);
      res.write(body.subarray(i * piece, (i + 1) * piece));
      if (++i >= 16) clearInterval(timer), res.end();
    }, fault.slowMs / 16);
    return;
  }
  res.end(body);
}

async function listen(handler: http.RequestListener): Promise<http.Server> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

export async function startFakeHub(): Promise<FakeHub> {
  const torch = new Map<string, Uint8Array>();
  const blobs = new Map<string, Uint8Array>();
  const repos = new Map<
    string,
    { files: Record<string, Uint8Array>; lfs: Set<string>; gated: boolean; commit: string }
  >();
  const faults = new Map<string, Fault[]>();
  const served = new Map<string, number>();
  const log: Served[] = [];
  const sockets = new Set<import('node:net').Socket>();
  let cdnUrl = '';

  const take = (path: string): Fault | undefined => faults.get(path)?.shift();
  const record = (req: IncomingMessage, path: string) => {
    log.push({
      method: req.method ?? '',
      path,
      host: req.headers.host ?? '',
      ...(req.headers.range && { range: req.headers.range }),
      ...(req.headers.authorization && { authorization: req.headers.authorization }),
    });
  };
  /** Faults every route shares; true when it answered. */
  const generic = (res: ServerResponse, fault: Fault | undefined): boolean => {
    if (!fault) return false;
    if ('status' in fault)
      return (res.writeHead(fault.status, { 'content-type': 'text/plain' }).end(`status ${fault.status}`), true);
    if ('redirect' in fault) return (res.writeHead(302, { location: fault.redirect }).end(), true);
    if ('silent' in fault) return true;
    return false;
  };
  const count = (req: IncomingMessage, path: string) => {
    if (req.method === 'GET') served.set(path, (served.get(path) ?? 0) + 1);
  };

  /** Both hosts answer pages of other origins, as the hub and its CDN do (the demo's e2e test fetches from a page). */
  const cors = (res: ServerResponse) => {
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('access-control-expose-headers', 'x-repo-commit, x-linked-etag, x-linked-size, etag, content-range');
  };
  const main = await listen((req, res) => {
    cors(res);
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    record(req, path);
    const fault = take(path);
    if (generic(res, fault)) return;
    const tv = /^\/models\/([^/]+)$/.exec(path);
    if (tv && torch.has(tv[1]!)) {
      count(req, path);
      return serveBytes(req, res, torch.get(tv[1]!)!, fault, {});
    }
    const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)$/.exec(path);
    const treeRepo = tree && repos.get(tree[1]!);
    if (treeRepo) {
      // The hub's tree API (huggingface_hub's list_repo_tree): git sha1 per file, LFS sha256 for LFS files; with CORS.
      const entries = Object.entries(treeRepo.files).map(([name, b]) => ({
        type: 'file',
        oid: gitSha1(b),
        size: b.length,
        path: name,
        ...(treeRepo.lfs.has(name) && { lfs: { oid: sha256(b), size: b.length, pointerSize: 134 } }),
      }));
      return void res
        .writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' })
        .end(JSON.stringify(entries));
    }
    const hf = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    const repo = hf && repos.get(hf[1]!);
    if (!hf || !repo) return void res.writeHead(404, { 'x-error-code': 'RepoNotFound' }).end('Repository not found');
    if (repo.gated && req.headers.authorization !== 'Bearer hf_test_token')
      return void res.writeHead(401, { 'x-error-code': 'GatedRepo' }).end('Access to this model is restricted');
    const file = repo.files[hf[3]!];
    if (!file)
      return void res
        .writeHead(404, { 'x-error-code': 'EntryNotFound', 'x-repo-commit': repo.commit })
        .end('Entry not found');
    const common = { 'x-repo-commit': repo.commit };
    if (repo.lfs.has(hf[3]!)) {
      const sha = sha256(file);
      // The hub: 302 to the CDN, LFS facts in its own headers (huggingface_hub reads these, not the CDN's).
      return void res
        .writeHead(302, {
          ...common,
          location: `${cdnUrl}/cdn/${sha}?sig=x`,
          'x-linked-etag': `"${sha}"`,
          'x-linked-size': String(file.length),
          etag: `"${gitSha1(Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha}\nsize ${file.length}\n`))}"`,
          'content-length': '0',
        })
        .end();
    }
    count(req, path);
    serveBytes(req, res, file, fault, { ...common, etag: `"${gitSha1(file)}"` });
  });
  const cdn = await listen((req, res) => {
    cors(res);
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    record(req, path);
    const fault = take(path);
    if (generic(res, fault)) return;
    const blob = blobs.get(path.replace(/^\/cdn\//, ''));
    if (!blob) return void res.writeHead(404).end();
    count(req, path);
    serveBytes(req, res, blob, fault, { etag: `"${path.slice(5)}"` });
  });
  for (const s of [main, cdn]) s.on('connection', (c) => (sockets.add(c), c.on('close', () => sockets.delete(c))));
  const url = `http://127.0.0.1:${(main.address() as AddressInfo).port}`;
  cdnUrl = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;

  return {
    url,
    cdnUrl,
    log,
    torchvision: (file, bytes) => void torch.set(file, bytes),
    repo(id, files, o = {}) {
      const commit = o.commit ?? createHash('sha1').update(id).digest('hex');
      repos.set(id, {
        files,
        lfs: new Set(o.lfs ?? ['model.safetensors', 'pytorch_model.bin']),
        gated: o.gated ?? false,
        commit,
      });
      for (const name of o.lfs ?? ['model.safetensors', 'pytorch_model.bin'])
        if (files[name]) blobs.set(sha256(files[name]), files[name]);
      return commit;
    },
    fault: (path, ...f) => void faults.set(path, [...(faults.get(path) ?? []), ...f]),
    bodies: (path) => served.get(path) ?? 0,
    close: async () => {
      for (const c of sockets) c.destroy();
      await Promise.all([main, cdn].map((s) => new Promise((r) => s.close(r))));
    },
  };
}

/** The CDN path of an LFS file's bytes. */
export const cdnPath = (bytes: Uint8Array) => `/cdn/${sha256(bytes)}`;
