import type { PipelineDecoder, PreparedImage, PipelineSources } from './types.js';

/** The images of a stream, prepared in input order, a bounded number ahead of the one taken. */
export class ReadAhead<Source> {
  private readonly iterator: Iterator<Source> | AsyncIterator<Source>;
  private readonly queue: Promise<PreparedImage>[] = [];
  private index = 0;
  private exhausted = false;

  constructor(
    sources: PipelineSources<Source>,
    private readonly decoder: PipelineDecoder<Source>,
  ) {
    this.iterator =
      Symbol.asyncIterator in sources
        ? sources[Symbol.asyncIterator]()
        : (sources as Iterable<Source>)[Symbol.iterator]();
  }

  /** Keeps `ahead` images in flight: enough to fill the next batch while the current one runs, and no more. */
  async fill(ahead: number): Promise<void> {
    while (!this.exhausted && this.queue.length < ahead) {
      const next = await this.iterator.next();
      if (next.done) this.exhausted = true;
      else {
        const prepared = this.decoder.prepare(next.value, this.index++);
        // A decoder whose `prepare` rejects (a naming error) fails the batch that reaches it; the others are not unhandled.
        prepared.catch(() => {});
        this.queue.push(prepared);
      }
    }
  }

  /** The next `size` good images and the failures between them, in input order (fewer at the end of the stream). */
  async take(size: number, ahead: number): Promise<{ items: PreparedImage[]; good: number }> {
    const items: PreparedImage[] = [];
    let good = 0;
    while (good < size) {
      await this.fill(ahead);
      const next = this.queue.shift();
      if (!next) break;
      const p = await next;
      items.push(p);
      if ('tensor' in p) good++;
    }
    return { items, good };
  }

  /** An early `break` by the caller: in-flight decodes finish quietly (`prepare` never rejects). */
  clear(): void {
    this.queue.length = 0;
  }
}
