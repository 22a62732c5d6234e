// Faults, each a test, each bounded in time: a client that goes away mid-body, a client sending a byte a second,
// a 2 GB Content-Length, malformed JSON, data that disagrees with its shape, unknown models and versions, a full
// queue, a request past its time, the token and CORS switches, the body limit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Served, serveTestModel, writeTestModel } from '../../test/served.js';
import { answerOf, open, postHead } from '../../test/raw.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const INFER = '/v2/models/tiny/infer';

/** A valid JSON request of one 3x64x64 row. */
const oneRow = () =>
  JSON.stringify({
    inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3, 64, 64], data: new Array(3 * 64 * 64).fill(0.25) }],
  });

describe('faults', () => {
  const model = writeTestModel();
  const logs: Record<string, unknown>[] = [];
  let served: Served;
  beforeAll(async () => {
    served = await serveTestModel(model.path, {
      timeoutMs: 1500,
      maxBodyBytes: 4 * 1024 * 1024,
      log: (l) => logs.push(JSON.parse(l)),
    });
  });
  afterAll(async () => {
    await served?.close();
    model.remove();
  });
  const post = (body: string | Buffer, path = INFER, headers: Record<string, string> = {}) =>
    fetch(served.url + path, {
      method: 'POST',
      body: body as BodyInit,
      headers: { 'Content-Type': 'application/json', ...headers },
    });
  const errorOf = async (r: Response) => {
    const body = (await r.json()) as { error: string };
    expect(Object.keys(body)).toEqual(['error']);
    return body.error;
  };

  it('a client that disconnects mid-body: nothing is queued, the server goes on answering', async () => {
    const s = await open(served.url);
    s.write(postHead(INFER, 100_000));
    s.write('{"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 3, 64, 64], "data": [0.5, ');
    await sleep(100);
    s.destroy();
    await sleep(100);
    expect(logs.some((l) => l.status === 499)).toBe(true);
    const r = await post(oneRow());
    expect(r.status).toBe(200);
    expect(served.server.metrics.models[0]!.pending()).toBe(0);
  });

  it('a client sending 1 byte per second gets 408 at the timeout, and holds no worker meanwhile', async () => {
    const s = await open(served.url);
    const started = performance.now();
    const answer = answerOf(s, started);
    s.write(postHead(INFER, 1000));
    const drip = setInterval(() => s.writable && s.write('{'), 1000);
    try {
      await sleep(200);
      const t0 = performance.now();
      const other = await post(oneRow()); // served while the slow one dribbles
      expect(other.status).toBe(200);
      expect(performance.now() - t0).toBeLessThan(1000);
      const slow = await answer;
      expect(slow.status).toBe(408);
      expect(slow.body).toContain('did not arrive within 1500 ms');
      expect(slow.ms).toBeGreaterThanOrEqual(1400);
      expect(slow.ms).toBeLessThan(3500);
    } finally {
      clearInterval(drip);
      s.destroy();
    }
  });

  it('a 2 GB Content-Length is refused with 413 before any of it is read', async () => {
    const s = await open(served.url);
    const answer = answerOf(s);
    s.write(postHead(INFER, 2 * 1024 ** 3));
    s.write('{"inputs": [');
    const r = await answer;
    s.destroy();
    expect(r.status).toBe(413);
    expect(r.ms).toBeLessThan(1000);
    expect(JSON.parse(r.body).error).toContain('2147483648 bytes (Content-Length) is more than');
    expect(r.headers.connection).toBe('close');
  });

  it('a chunked body past the limit is cut off with 413', async () => {
    const big = new Uint8Array(5 * 1024 * 1024).fill(32);
    const stream = new ReadableStream({ start: (c) => (c.enqueue(big), c.close()) });
    const r = await fetch(served.url + INFER, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(r.status).toBe(413);
    expect(await errorOf(r)).toContain('more than this server');
  });

  it('malformed JSON: 400 and an error object', async () => {
    const r = await post('{"inputs": [{"name": "input",');
    expect(r.status).toBe(400);
    expect(await errorOf(r)).toMatch(/JSON/);
  });

  it('data whose length disagrees with its shape: 400 naming the input (JSON and binary)', async () => {
    const json = JSON.stringify({
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3, 64, 64], data: [1, 2, 3] }],
    });
    const r = await post(json);
    expect(r.status).toBe(400);
    expect(await errorOf(r)).toBe('inputs[0].data: holds 3 elements, but shape [1, 3, 64, 64] needs 12288');
    const header = JSON.stringify({
      inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 3, 64, 64], parameters: { binary_data_size: 4 * 12288 } }],
    });
    const body = Buffer.concat([Buffer.from(header), Buffer.alloc(4 * 12288)]);
    const b = await post(body, INFER, { 'Inference-Header-Content-Length': String(header.length) });
    expect(b.status).toBe(400);
    expect(await errorOf(b)).toMatch(/inputs\[0\]/);
  });

  it('an empty batch is refused (400), not run', async () => {
    const r = await post(
      JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [0, 3, 64, 64], data: [] }] }),
    );
    expect(r.status).toBe(400);
    expect(await errorOf(r)).toBe('inputs[0].shape: the batch dimension is 0; send at least one row');
  });

  it('an unknown model or version: 404 on metadata, ready and infer', async () => {
    for (const path of [
      '/v2/models/nope',
      '/v2/models/nope/ready',
      '/v2/models/tiny/versions/7',
      '/v2/models/tiny/versions/7/ready',
    ]) {
      const r = await fetch(served.url + path);
      expect(r.status, path).toBe(404);
      expect(await errorOf(r)).toMatch(/unknown model 'nope'|no version '7'/);
    }
    const r = await post(oneRow(), '/v2/models/tiny/versions/2/infer');
    expect(r.status).toBe(404);
    expect(await errorOf(r)).toBe("model 'tiny' has no version '2'; it has 1");
  });

  it('a wrong method is 405, an unknown path 404, CORS headers absent by default', async () => {
    const r = await fetch(`${served.url}/v2/models/tiny/infer`);
    expect(r.status).toBe(405);
    await r.body?.cancel();
    const n = await fetch(`${served.url}/nothing`);
    expect(n.status).toBe(404);
    expect(n.headers.get('access-control-allow-origin')).toBeNull();
    await n.body?.cancel();
  });

  it('/metrics counts what happened, with Triton names', async () => {
    const text = await (await fetch(`${served.url}/metrics`)).text();
    const value = (name: string) =>
      Number(new RegExp(`^${name}\\{model="tiny",version="1"\\} (\\d+)$`, 'm').exec(text)?.[1]);
    expect(value('nv_inference_request_success')).toBeGreaterThanOrEqual(2);
    expect(value('nv_inference_request_failure')).toBeGreaterThanOrEqual(4);
    expect(value('nv_inference_exec_count')).toBeGreaterThanOrEqual(2);
    expect(value('nv_inference_count')).toBeGreaterThanOrEqual(value('nv_inference_exec_count'));
    expect(text).toMatch(/^mobilenet_batch_size_bucket\{model="tiny",version="1",le="1"\} \d+$/m);
    expect(text).toMatch(/^mobilenet_http_responses_total\{code="413"\} 2$/m);
    // and the access log has one JSON line per request, with the model, batch and times for an inference
    const ok = logs.find((l) => l.status === 200 && l.model === 'tiny')!;
    expect(ok).toMatchObject({ method: 'POST', path: INFER, rows: 1 });
    expect(typeof ok.queue_us).toBe('number');
    expect(typeof ok.compute_us).toBe('number');
  });
});
