// Prometheus metrics in the text exposition format, with Triton's names where Triton has the metric
// (triton-inference-server/server, docs/user_guide/metrics.md: nv_inference_request_success, ..._failure,
// nv_inference_count, nv_inference_exec_count, nv_inference_pending_request_count, and the cumulative
// microsecond counters nv_inference_request_duration_us, nv_inference_queue_duration_us,
// nv_inference_compute_infer_duration_us), labelled {model, version} as Triton labels them. Triton has no batch
// size histogram and no per-status HTTP counter: those are ours, prefixed `mobilenet_`.

/** Upper bounds of the batch size histogram's buckets. */
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
/** Upper bounds of the request latency histogram's buckets, in milliseconds. */
const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];

/** A Prometheus histogram: cumulative bucket counts, the sum and the count. */
export class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = bounds.map(() => 0);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    this.bounds.forEach((b, i) => {
      if (v <= b) this.counts[i]!++;
    });
  }
  lines(name: string, labels: string): string[] {
    const sep = labels ? `${labels},` : '';
    return [
      ...this.bounds.map((b, i) => `${name}_bucket{${sep}le="${b}"} ${this.counts[i]}`),
      `${name}_bucket{${sep}le="+Inf"} ${this.count}`,
      `${name}_sum${labels ? `{${labels}}` : ''} ${this.sum}`,
      `${name}_count${labels ? `{${labels}}` : ''} ${this.count}`,
    ];
  }
}

/** One model version's counters. */
export class ModelMetrics {
  success = 0;
  failure = 0;
  /** Rows run (a batch of n counts n), as Triton's nv_inference_count. */
  inferences = 0;
  /** Batches run, as Triton's nv_inference_exec_count. */
  executions = 0;
  requestUs = 0;
  queueUs = 0;
  computeUs = 0;
  readonly batchSize = new Histogram(BATCH_BUCKETS);
  readonly latencyMs = new Histogram(LATENCY_BUCKETS_MS);
  constructor(
    readonly model: string,
    readonly version: string,
    readonly pending: () => number,
  ) {}
}

const escapeLabel = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** Every metric of a server: per model version, and HTTP answers by status. */
export class Metrics {
  readonly models: ModelMetrics[] = [];
  private readonly statuses = new Map<number, number>();

  model(model: string, version: string, pending: () => number): ModelMetrics {
    const m = new ModelMetrics(model, version, pending);
    this.models.push(m);
    return m;
  }

  answered(status: number): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
  }

  /** The exposition text (`text/plain; version=0.0.4`). */
  text(): string {
    const out: string[] = [];
    const family = (name: string, type: string, help: string, values: (m: ModelMetrics) => number) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const m of this.models) out.push(`${name}{${labelsOf(m)}} ${values(m)}`);
    };
    const labelsOf = (m: ModelMetrics) => `model="${escapeLabel(m.model)}",version="${escapeLabel(m.version)}"`;
    family('nv_inference_request_success', 'counter', 'Number of successful inference requests', (m) => m.success);
    family('nv_inference_request_failure', 'counter', 'Number of failed inference requests', (m) => m.failure);
    family(
      'nv_inference_count',
      'counter',
      'Number of inferences performed (a batch of n counts n)',
      (m) => m.inferences,
    );
    family('nv_inference_exec_count', 'counter', 'Number of model executions (batches)', (m) => m.executions);
    family('nv_inference_pending_request_count', 'gauge', 'Requests waiting in the queue', (m) => m.pending());
    family('nv_inference_request_duration_us', 'counter', 'Cumulative end-to-end request handling time', (m) =>
      Math.round(m.requestUs),
    );
    family('nv_inference_queue_duration_us', 'counter', 'Cumulative time in the batching queue', (m) =>
      Math.round(m.queueUs),
    );
    family(
      'nv_inference_compute_infer_duration_us',
      'counter',
      'Cumulative time requests spent in model execution',
      (m) => Math.round(m.computeUs),
    );
    out.push('# HELP mobilenet_batch_size Rows per model execution', '# TYPE mobilenet_batch_size histogram');
    for (const m of this.models) out.push(...m.batchSize.lines('mobilenet_batch_size', labelsOf(m)));
    out.push(
      '# HELP mobilenet_request_duration_ms End-to-end inference request time',
      '# TYPE mobilenet_request_duration_ms histogram',
    );
    for (const m of this.models) out.push(...m.latencyMs.lines('mobilenet_request_duration_ms', labelsOf(m)));
    out.push(
      '# HELP mobilenet_http_responses_total HTTP responses by status',
      '# TYPE mobilenet_http_responses_total counter',
    );
    for (const [status, n] of [...this.statuses].sort((a, b) => a[0] - b[0])) {
      out.push(`mobilenet_http_responses_total{code="${status}"} ${n}`);
    }
    return `${out.join('\n')}\n`;
  }
}
