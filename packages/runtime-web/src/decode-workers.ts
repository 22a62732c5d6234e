import { MobileNetError, type Preprocessing, type PreparedImage } from '@mobilenet/core';
import type { WebDecodeMode } from './decode-fast.js';
import type { DecodeReply, DecodeRequest } from './decode-worker.js';

/** Workers answering requests by id; a worker that fails to load fails every image it holds, by name. */
export class DecodeWorkers {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, { name: string; done: (p: PreparedImage) => void; worker: number }>();
  private readonly load: number[];
  private nextId = 0;

  constructor(count: number) {
    // OffscreenCanvas too: what the worker decodes with (in Node, onnxruntime-web's threads define a Worker global).
    if (typeof Worker === 'undefined' || typeof OffscreenCanvas === 'undefined')
      throw new MobileNetError('option', 'option workers', '0 here (no Web Worker outside a page)', String(count));
    this.workers = Array.from({ length: count }, (_, w) => {
      const worker = new Worker(new URL('./decode-worker.js', import.meta.url), { type: 'module' });
      worker.onmessage = (e: MessageEvent<DecodeReply>) => this.answer(e.data);
      worker.onerror = (e) => {
        e.preventDefault();
        this.failWorker(w, `the decode worker failed: ${e.message || 'its script did not load'}`);
      };
      return worker;
    });
    this.load = this.workers.map(() => 0);
  }

  prepare(image: Blob, name: string, pre: Preprocessing, mode: WebDecodeMode): Promise<PreparedImage> {
    const worker = this.load.indexOf(Math.min(...this.load));
    const id = this.nextId++;
    this.load[worker]!++;
    return new Promise((done) => {
      this.pending.set(id, { name, done, worker });
      const request: DecodeRequest = { id, image, name, pre, mode };
      this.workers[worker]!.postMessage(request);
    });
  }

  private answer(reply: DecodeReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    this.load[p.worker]!--;
    p.done(
      'tensor' in reply
        ? { name: p.name, tensor: reply.tensor, width: reply.width, height: reply.height }
        : { name: p.name, error: reply.error },
    );
  }

  private failWorker(worker: number, why: string): void {
    for (const [id, p] of this.pending) if (p.worker === worker) this.answer({ id, error: `${p.name}: ${why}` });
  }

  terminate(): void {
    for (const w of this.workers) w.terminate();
    for (const [id, p] of this.pending) this.answer({ id, error: `${p.name}: stopped before it was decoded` });
  }
}
