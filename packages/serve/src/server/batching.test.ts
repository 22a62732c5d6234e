// Dynamic batching and the server's switches, on a model whose run waits for the test to let it go (so what is
// queued, batched or refused is decided by the test, not by timing), and on the real model for the numbers.
import { afterAll, describe, expect, it } from 'vitest';
import { IMAGES, serveTestModel, writeTestModel } from '../../test/served.js';
import { serializeBytes } from '../protocol/datatypes.js';
import type { ModelMetadata } from '../protocol/types.js';
import type { ServedModel } from './model.js';
import type { ServerOptions } from './options.js';
import { open, postHead } from '../../test/raw.js';
import { type RunningServer, startServer } from './server.js';

/** A model of one input [-1, 2] whose output is its input doubled; each run waits until `release()`. */
function gatedModel() {
  const batches: number[] = [];
  let open: (() => void)[] = [];
  const metadata: ModelMetadata = {
    name: 'gated',
    versions: ['1'],
    platform: 'test',
    inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 2] }],
  };
  const model: ServedModel = {
    name: 'gated',
    version: '1',
    metadata,
    labels: {},
    rowSize: 2,
    outputWidths: { y: 2 },
    async prepare(request) {
      const x = request.inputs[0]!;
      return { rows: x.data as Float32Array, count: x.shape[0]! };
    },
    async run(rows, batch) {
      batches.push(batch);
      await new Promise<void>((r) => open.push(r));
      return { y: rows.map((v) => 2 * v) };
    },
    release: async () => {},
  };
  const release = () => {
    const now = open;
    open = [];
    for (const r of now) r();
  };
  return { model, batches, release };
}

const row = (v: number) =>
  JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [v, v + 1] }] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `cond` holds, polling every 10 ms, at most 3 s. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const end = performance.now() + 3000;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`still not true after 3 s: ${what}`);
    await sleep(10);
  }
}

async function withServer<T>(
  options: Partial<ServerOptions>,
  f: (s: RunningServer, g: ReturnType<typeof gatedModel>) => Promise<T>,
) {
  const g = gatedModel();
  const server = await startServer([g.model], { port: 0, ...options });
  try {
    return await f(server, g);
  } finally {
    g.release();
    await server.close(1000);
  }
}

describe('dynamic batching', () => {
  it('requests that arrive within the delay run as one batch, at most max-batch rows; answers go back to each', async () => {
    await withServer({ maxBatch: 4, maxQueueDelayUs: 200_000 }, async (s, g) => {
      const answers = Array.from({ length: 6 }, (_, i) =>
        fetch(`${s.url}/v2/models/gated/infer`, { method: 'POST', body: row(10 * i) }).then((r) => r.json()),
      );
      // the first 4 go as soon as the batch is full; the last 2 wait for the first batch (one in flight)
      await until(
        () => g.batches.length === 1 && s.metrics.models[0]!.pending() === 2,
        'one batch running, two waiting',
      );
      expect(g.batches).toEqual([4]);
      g.release();
      await until(() => g.batches.length === 2, 'a second batch');
      expect(g.batches).toEqual([4, 2]);
      g.release();
      const got = (await Promise.all(answers)) as { outputs: { data: number[] }[] }[];
      expect(got.map((a) => a.outputs[0]!.data)).toEqual(got.map((_, i) => [20 * i, 20 * i + 2]));
      const m = s.metrics.models[0]!;
      expect([m.executions, m.inferences, m.success]).toEqual([2, 6, 6]);
    });
  });

  it('max-batch 1 turns batching off: one run per request', async () => {
    await withServer({ maxBatch: 1, maxQueueDelayUs: 200_000 }, async (s, g) => {
      const answers = [0, 1, 2].map((i) => fetch(`${s.url}/v2/models/gated/infer`, { method: 'POST', body: row(i) }));
      await until(() => s.metrics.models[0]!.pending() === 2, 'two waiting behind the first');
      for (let i = 1; i <= 3; i++) {
        await until(() => g.batches.length === i, `run ${i}`);
        g.release();
      }
      expect((await Promise.all(answers)).map((r) => r.status)).toEqual([200, 200, 200]);
      expect(g.batches).toEqual([1, 1, 1]);
    });
  });

  it('a full queue answers 503 with Retry-After at once; memory is the queue bound, not the load', async () => {
    await withServer({ maxBatch: 1, maxQueue: 2, maxQueueDelayUs: 0 }, async (s, g) => {
      const send = () => fetch(`${s.url}/v2/models/gated/infer`, { method: 'POST', body: row(1) });
      const running = send();
      await until(() => g.batches.length === 1, 'one running');
      const waiting = [send(), send()];
      await until(() => s.metrics.models[0]!.pending() === 2, 'two waiting fill the queue');
      const refused = await send();
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(((await refused.json()) as { error: string }).error).toContain(
        'queue of this model is full (2 requests waiting)',
      );
      expect(s.metrics.models[0]!.pending()).toBe(2);
      for (let i = 1; i <= 3; i++) {
        await until(() => g.batches.length === i, `run ${i}`);
        g.release();
      }
      expect((await Promise.all([running, ...waiting])).map((r) => r.status)).toEqual([200, 200, 200]);
    });
  });

  it('requests in progress per model are bounded before their bodies are read (503), so memory is', async () => {
    // --max-queue 1, --max-batch 1: at most 1 + 2 x 1 admitted; three clients sending half a body hold them all
    await withServer({ maxBatch: 1, maxQueue: 1, timeoutMs: 5000 }, async (s) => {
      const sockets = await Promise.all([0, 1, 2].map(() => open(s.url)));
      for (const sock of sockets) sock.write(`${postHead('/v2/models/gated/infer', 1000)}{"inputs": [`);
      await until(() => s.metrics.models[0]!.failure === 0 && sockets.every((k) => k.bytesWritten > 0), 'sent');
      await sleep(100);
      const r = await fetch(`${s.url}/v2/models/gated/infer`, { method: 'POST', body: row(1) });
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toBe('1');
      expect(((await r.json()) as { error: string }).error).toBe(
        "model 'gated' has 3 requests in progress, its limit; try again",
      );
      for (const sock of sockets) sock.destroy();
    });
  });

  it('a request not answered within the timeout gets 504 and leaves the queue', async () => {
    await withServer({ maxBatch: 1, timeoutMs: 300 }, async (s, g) => {
      const first = fetch(`${s.url}/v2/models/gated/infer`, { method: 'POST', body: row(1) });
      await until(() => g.batches.length === 1, 'the first running');
      const second = await fetch(`${s.url}/v2/models/gated/infer`, { method: 'POST', body: row(2) });
      expect(second.status).toBe(504);
      expect(((await second.json()) as { error: string }).error).toBe(
        'the request was not answered within 300 ms (--timeout-ms)',
      );
      expect(s.metrics.models[0]!.pending()).toBe(0);
      expect((await first).status).toBe(504);
      g.release();
    });
  });

  it('a bearer token guards every endpoint but health; a wrong one is 401 with WWW-Authenticate', async () => {
    await withServer({ token: 's3cret' }, async (s) => {
      expect((await fetch(`${s.url}/v2/health/ready`)).status).toBe(200);
      for (const path of ['/v2', '/v2/models/gated', '/metrics']) {
        const r = await fetch(s.url + path, { headers: { Authorization: 'Bearer nope' } });
        expect(r.status, path).toBe(401);
        expect(r.headers.get('www-authenticate')).toBe('Bearer');
        expect(((await r.json()) as { error: string }).error).toContain('bearer token is required');
        expect((await fetch(s.url + path, { headers: { Authorization: 'Bearer s3cret' } })).status).toBe(200);
      }
    });
  });

  it('a tensor over the limits is refused (413) before it is allocated, naming the input', async () => {
    await withServer({ limits: { maxElements: 4 } }, async (s, g) => {
      const big = JSON.stringify({
        inputs: [{ name: 'x', datatype: 'FP32', shape: [3, 2], data: [1, 2, 3, 4, 5, 6] }],
      });
      const r = await fetch(`${s.url}/v2/models/gated/infer`, { method: 'POST', body: big });
      expect(r.status).toBe(413);
      expect(((await r.json()) as { error: string }).error).toMatch(/^inputs\[0\]/);
      expect(g.batches).toEqual([]);
    });
  });

  it('CORS when asked: the origin on answers, preflight 204', async () => {
    await withServer({ cors: 'https://example.com' }, async (s) => {
      const pre = await fetch(`${s.url}/v2/models/gated/infer`, { method: 'OPTIONS' });
      expect(pre.status).toBe(204);
      expect(pre.headers.get('access-control-allow-origin')).toBe('https://example.com');
      expect(pre.headers.get('access-control-allow-headers')).toContain('Inference-Header-Content-Length');
      expect((await fetch(`${s.url}/v2`)).headers.get('access-control-allow-origin')).toBe('https://example.com');
    });
  });

  it('close(): readiness turns false, accepted requests are answered, then the server stops', async () => {
    const g = gatedModel();
    const s = await startServer([g.model], { port: 0, maxBatch: 1 });
    const accepted = [1, 2, 3].map((i) => fetch(`${s.url}/v2/models/gated/infer`, { method: 'POST', body: row(i) }));
    await until(() => g.batches.length === 1 && s.metrics.models[0]!.pending() === 2, 'one running, two waiting');
    const closing = s.close(5000);
    const timer = setInterval(g.release, 20);
    try {
      expect((await Promise.all(accepted)).map((r) => r.status)).toEqual([200, 200, 200]);
      await closing;
      await expect(fetch(`${s.url}/v2/health/live`)).rejects.toThrow();
    } finally {
      clearInterval(timer);
    }
  });
});

describe('batching on the real model', () => {
  const model = writeTestModel();
  afterAll(() => model.remove());

  it('images sent at once run in shared batches and each answer equals its image alone', async () => {
    const served = await serveTestModel(model.path, { maxBatch: 8, maxQueueDelayUs: 100_000 });
    try {
      const { readFileSync } = await import('node:fs');
      const send = (bytes: Uint8Array) => {
        const blob = serializeBytes([bytes]);
        const header = JSON.stringify({
          inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: blob.length } }],
          outputs: [{ name: 'logits' }],
        });
        return fetch(`${served.url}/v2/models/tiny/infer`, {
          method: 'POST',
          body: Buffer.concat([Buffer.from(header), blob]),
          headers: { 'Inference-Header-Content-Length': String(header.length) },
        }).then(async (r) => ((await r.json()) as { outputs: { data: number[] }[] }).outputs[0]!.data);
      };
      const images = IMAGES.map((p) => readFileSync(p));
      const together = await Promise.all(images.map(send));
      const m = served.server.metrics.models[0]!;
      expect(m.executions).toBeLessThan(images.length);
      for (let i = 0; i < images.length; i++) {
        const alone = await send(images[i]!);
        const worst = Math.max(...alone.map((v, j) => Math.abs(v - together[i]![j]!) / Math.max(1, Math.abs(v))));
        expect(worst).toBeLessThanOrEqual(1e-5);
      }
    } finally {
      await served.close();
    }
  });
});
