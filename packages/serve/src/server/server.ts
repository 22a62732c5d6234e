// `mobilenet serve`'s HTTP server: node:http, the Open Inference Protocol's REST endpoints on this package's
// codec, one dynamic-batching queue per model, Prometheus metrics at /metrics, a JSON access log line per request,
// bounded bodies and time per request, an optional bearer token, CORS only when asked, and a graceful close
// (stop accepting, answer every request already accepted, then stop).
import { createHash, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { type AddressInfo, Server as NetServer } from 'node:net';
import { parseInferRequest } from '../protocol/request.js';
import { type EncodedResponse, encodeError, encodeInferResponse, encodeJson } from '../protocol/response.js';
import { EXTENSIONS, type Route, matchRoute } from '../protocol/routes.js';
import { ProtocolError } from '../protocol/types.js';
import { Batcher, OverloadedError } from './batcher.js';
import { ClientGone, checkDeclaredLength, readBody } from './body.js';
import { Metrics, type ModelMetrics } from './metrics.js';
import type { ServedModel } from './model.js';
import { DEFAULT_SERVER_OPTIONS, type ServerOptions } from './options.js';

const netClose = NetServer.prototype.close;

/** The server's name and version in GET /v2. */
const SERVER_NAME = 'mobilenet-serve';

export interface RunningServer {
  /** http://host:port */
  readonly url: string;
  readonly port: number;
  readonly metrics: Metrics;
  /** Stops accepting, answers every accepted request (within `graceMs`), closes every connection. */
  close(graceMs?: number): Promise<void>;
}

interface Entry {
  model: ServedModel;
  batcher: Batcher;
  metrics: ModelMetrics;
  /** Requests of this model between admission (before the body is read) and their answer. */
  admitted: number;
  /** At most this many admitted: the queue, plus what runs or is being read and decoded meanwhile. */
  maxAdmitted: number;
}

/** What one request's log line carries besides method, path, status and time. */
type LogFields = Record<string, string | number | boolean>;

const sha = (s: string) => createHash('sha256').update(s).digest();

/** One batching queue per model, its metrics fed by each batch. */
function queues(models: readonly ServedModel[], o: ServerOptions, metrics: Metrics): Map<string, Entry> {
  const entries = new Map<string, Entry>();
  for (const model of models) {
    if (entries.has(model.name)) throw new Error(`two models are named '${model.name}'`);
    const batcher = new Batcher({
      maxBatch: model.batching?.maxBatch ?? o.maxBatch,
      maxQueueDelayUs: model.batching?.maxQueueDelayUs ?? o.maxQueueDelayUs,
      maxQueue: o.maxQueue,
      maxInFlight: o.maxInFlight,
      rowSize: model.rowSize,
      run: model.run,
    });
    const m = metrics.model(model.name, model.version, () => batcher.pending);
    batcher.onBatch = (r) => {
      if (r.failed) return;
      m.executions++;
      m.inferences += r.rows;
      m.batchSize.observe(r.rows);
    };
    const batch = model.batching?.maxBatch ?? o.maxBatch;
    entries.set(model.name, {
      model,
      batcher,
      metrics: m,
      admitted: 0,
      maxAdmitted: o.maxQueue + 2 * batch * o.maxInFlight,
    });
  }
  return entries;
}

/** Refuses a request without the bearer token (401, answered with WWW-Authenticate); no token set: no check. */
function authorize(req: IncomingMessage, tokenHash: Buffer | undefined): void {
  if (!tokenHash) return;
  const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
  if (!m || !timingSafeEqual(sha(m[1]!), tokenHash)) {
    throw Object.assign(new ProtocolError('a bearer token is required (Authorization: Bearer TOKEN)', 401), {
      challenge: true,
    });
  }
}

/** CORS headers for `origin`; none (browsers refuse cross-origin calls) when it is not set. */
function corsHeaders(origin: string | undefined): Record<string, string> {
  if (origin === undefined) return {};
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
    'Access-Control-Allow-Headers': 'Content-Type, Authorization, Inference-Header-Content-Length',
    'Access-Control-Expose-Headers': 'Inference-Header-Content-Length',
    'Access-Control-Max-Age': '600',
    ...(origin !== '*' ? { Vary: 'Origin' } : {}),
  };
}

/** Starts a server for `models` (resolved once it listens). */
export async function startServer(
  models: readonly ServedModel[],
  given: Partial<ServerOptions> = {},
): Promise<RunningServer> {
  const o: ServerOptions = { ...DEFAULT_SERVER_OPTIONS, ...given };
  const metrics = new Metrics();
  const entries = queues(models, o, metrics);
  let draining = false;
  let active = 0;
  const tokenHash = o.token !== undefined ? sha(o.token) : undefined;

  const find = (name: string, version: string | undefined): Entry => {
    const e = entries.get(name);
    if (!e) throw new ProtocolError(`unknown model '${name}'; this server has ${[...entries.keys()].join(', ')}`, 404);
    if (version !== undefined && version !== e.model.version) {
      throw new ProtocolError(`model '${name}' has no version '${version}'; it has ${e.model.version}`, 404);
    }
    return e;
  };

  async function infer(
    req: IncomingMessage,
    route: Extract<Route, { kind: 'infer' }>,
    signal: AbortSignal,
    fields: LogFields,
  ): Promise<EncodedResponse> {
    const entry = find(route.model, route.version);
    const started = performance.now();
    fields.model = entry.model.name;
    // Bodies and decoded images are held from here to the answer: bounded per model, so memory is too.
    if (entry.admitted >= entry.maxAdmitted) {
      entry.metrics.failure++;
      throw new OverloadedError(
        `model '${entry.model.name}' has ${entry.admitted} requests in progress, its limit; try again`,
      );
    }
    entry.admitted++;
    try {
      checkDeclaredLength(req, o.maxBodyBytes);
      const body = await readBody(req, o.maxBodyBytes);
      fields.bytes_in = body.length;
      const request = parseInferRequest(body, {
        headerLength: req.headers['inference-header-content-length'] as string | undefined,
        limits: o.limits,
      });
      if (request.id !== undefined) fields.id = request.id;
      const { rows, count } = await entry.model.prepare(request, signal);
      if (signal.aborted) throw signal.reason;
      if (count === 0) throw new ProtocolError('inputs[0].shape: the batch dimension is 0; send at least one row');
      const wanted = request.outputs.length
        ? request.outputs.map((r) => r.name)
        : Object.keys(entry.model.outputWidths);
      const done = await entry.batcher.submit(rows, count, wanted, signal);
      Object.assign(fields, {
        rows: count,
        batch: done.batchSize,
        queue_us: Math.round(done.queueUs),
        compute_us: Math.round(done.computeUs),
      });
      const outputs = wanted.map((name) => ({
        name,
        datatype: 'FP32' as const,
        shape: [count, entry.model.outputWidths[name]!],
        data: done.outputs[name]!,
      }));
      const encoded = encodeInferResponse(
        {
          model_name: entry.model.name,
          model_version: entry.model.version,
          ...(request.id !== undefined ? { id: request.id } : {}),
          outputs,
        },
        request,
        { batched: true, labels: entry.model.labels },
      );
      const m = entry.metrics;
      m.success++;
      m.queueUs += done.queueUs;
      m.computeUs += done.computeUs;
      const us = (performance.now() - started) * 1000;
      m.requestUs += us;
      m.latencyMs.observe(us / 1000);
      return encoded;
    } catch (e) {
      entry.metrics.failure++;
      throw e;
    } finally {
      entry.admitted--;
    }
  }

  async function route(req: IncomingMessage, signal: AbortSignal, fields: LogFields): Promise<EncodedResponse> {
    const path = req.url ?? '/';
    if (o.cors !== undefined && req.method === 'OPTIONS') return { status: 204, headers: {}, body: new Uint8Array(0) };
    if (path.split('?')[0] === '/metrics') {
      if (req.method !== 'GET') throw new ProtocolError(`/metrics takes GET, received ${req.method}`, 405);
      authorize(req, tokenHash);
      const body = new TextEncoder().encode(metrics.text());
      return { status: 200, headers: { 'Content-Type': 'text/plain; version=0.0.4' }, body };
    }
    const r = matchRoute(req.method ?? 'GET', path);
    if (r.kind === 'server-live') return encodeJson({ live: true });
    if (r.kind === 'server-ready') return encodeJson({ ready: !draining }, draining ? 503 : 200);
    authorize(req, tokenHash);
    switch (r.kind) {
      case 'server-metadata':
        return encodeJson({ name: SERVER_NAME, version: '1', extensions: [...EXTENSIONS] });
      case 'model-metadata':
        return encodeJson(find(r.model, r.version).model.metadata);
      case 'model-ready':
        find(r.model, r.version);
        return encodeJson({ name: r.model, ready: !draining });
      case 'infer':
        return infer(req, r, signal, fields);
    }
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    active++;
    const started = performance.now();
    const fields: LogFields = {};
    const abort = new AbortController();
    let answered = false;
    const answer = (r: EncodedResponse, error?: string) => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      metrics.answered(r.status);
      const headers: Record<string, string> = {
        ...r.headers,
        ...corsHeaders(o.cors),
        'Content-Length': String(r.body.length),
      };
      if (draining) headers.Connection = 'close';
      res.writeHead(r.status, headers).end(r.body);
      log(r.status, error, r.body.length);
    };
    const log = (status: number, error: string | undefined, bytesOut: number) =>
      o.log(
        JSON.stringify({
          time: new Date().toISOString(),
          method: req.method,
          path: req.url,
          status,
          ms: Math.round((performance.now() - started) * 100) / 100,
          remote: req.socket.remoteAddress,
          ...fields,
          bytes_out: bytesOut,
          ...(error !== undefined ? { error } : {}),
        }),
      );
    const timer = setTimeout(() => {
      const reading = !req.complete;
      const err = new ProtocolError(
        reading
          ? `the request body did not arrive within ${o.timeoutMs} ms (--timeout-ms)`
          : `the request was not answered within ${o.timeoutMs} ms (--timeout-ms)`,
        reading ? 408 : 504,
      );
      abort.abort(err);
      answer(encodeError(err), err.message);
      if (reading) res.once('finish', () => req.socket.destroy()); // nothing more is read from a slow client
    }, o.timeoutMs);
    res.on('close', () => {
      if (!answered) {
        answered = true;
        clearTimeout(timer);
        abort.abort(new ClientGone());
        log(499, 'the client closed the connection before the answer', 0);
      }
      active--;
    });
    route(req, abort.signal, fields).then(
      (r) => answer(r),
      (e: unknown) => {
        if (e instanceof ClientGone) return; // logged on close
        const encoded = encodeError(e);
        if (e instanceof OverloadedError) encoded.headers['Retry-After'] = String(e.retryAfterSeconds);
        if ((e as { challenge?: boolean }).challenge) encoded.headers['WWW-Authenticate'] = 'Bearer';
        if (encoded.status === 413 && !req.complete) encoded.headers.Connection = 'close';
        answer(encoded, (e as Error).message);
        if (encoded.status === 413 && !req.complete) res.once('finish', () => req.socket.destroySoon());
      },
    );
  }

  const server: Server = createServer(
    {
      requestTimeout: o.timeoutMs + 1000,
      headersTimeout: Math.min(o.timeoutMs, 60_000),
      connectionsCheckingInterval: 1000,
    },
    handle,
  );
  server.maxConnections = o.maxConnections;
  let connections = 0;
  let requests = 0;
  server.on('connection', () => connections++);
  server.on('request', () => requests++);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${host}:${port}`,
    port,
    metrics,
    async close(graceMs = o.timeoutMs + 1000) {
      draining = true;
      // Stop listening, but not as http.Server.close() does: it also closes every connection without a request in
      // progress, and a connection accepted a moment ago whose request this busy loop has not parsed yet looks
      // exactly like that. Those requests were accepted: they are answered (with Connection: close) like the rest.
      const closed = new Promise<void>((resolve) => netClose.call(server, () => resolve()));
      const deadline = performance.now() + graceMs;
      let quiet = 0;
      while (quiet < 3 && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        quiet = active === 0 ? quiet + 1 : 0;
      }
      o.log(
        JSON.stringify({ time: new Date().toISOString(), event: 'drained', in_flight: active, connections, requests }),
      );
      server.closeAllConnections();
      await closed;
      for (const e of entries.values()) e.batcher.close();
    },
  };
}
