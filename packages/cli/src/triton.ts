// `mobilenet export --triton REPO`: the exported model as a Triton / KServe model repository entry
// (REPO/NAME/config.pbtxt, REPO/NAME/1/model.onnx, REPO/NAME/labels.txt), through @mobilenet/serve's writer.
import { type DType, type Graph, type Value, modelLabels, quotePath } from '@mobilenet/core';
import { type Datatype, type TritonModelConfig, type TritonTensor, writeTritonRepository } from '@mobilenet/serve';
import { optionError } from './errors.js';
import { between, integer } from './numbers.js';

/** What `--triton` takes, with the defaults `export --help` states. */
export interface TritonChoice {
  readonly repo: string;
  /** The model's name in the repository; by default the architecture's (v3-large: v3_large). */
  readonly name?: string;
  readonly maxBatch: number;
  readonly instances: number;
  readonly kind: 'KIND_CPU' | 'KIND_GPU';
  readonly maxQueueDelayUs: number;
}

export const TRITON_HELP = `  --triton REPO       write a Triton / KServe model repository entry instead of -o: REPO/NAME/config.pbtxt
                      (platform onnxruntime_onnx, dynamic batching, label_filename for the classification
                      extension), REPO/NAME/1/model.onnx (dynamic batch axis), REPO/NAME/labels.txt
  --name N            the model's name in the repository (default: the architecture, e.g. v3_large)
  --max-batch B       max_batch_size, 1-65536 (default 32); preferred batch sizes are the powers of 2 from 4 to B
  --max-queue-delay-us N  dynamic batching's max_queue_delay_microseconds (default 1000)
  --instances N       instance_group count (default 1)
  --kind cpu|gpu      instance_group kind (default cpu)
  (--force replaces an existing version folder REPO/NAME/1)`;

export const TRITON_OPTIONS = {
  triton: { type: 'string', expects: 'a model repository folder' },
  name: { type: 'string', expects: 'a model name (letters, digits, _ . -)' },
  'max-batch': { type: 'string', expects: 'an integer from 1 to 65536' },
  'max-queue-delay-us': { type: 'string', expects: 'an integer from 0 to 10000000' },
  instances: { type: 'string', expects: 'an integer from 1 to 64' },
  kind: { type: 'string', expects: 'cpu or gpu' },
} as const;

type TritonValues = { [K in keyof typeof TRITON_OPTIONS]?: string };

/** The --triton choice, every value checked; undefined without --triton (then its companions are refused). */
export function tritonChoice(values: TritonValues): TritonChoice | undefined {
  const { triton: repo } = values;
  if (repo === undefined) {
    const stray = (['name', 'max-batch', 'max-queue-delay-us', 'instances', 'kind'] as const).find(
      (o) => values[o] !== undefined,
    );
    if (stray) throw optionError(`--${stray}`, '--triton REPO to go with it', 'no --triton');
    return undefined;
  }
  const kind = values.kind ?? 'cpu';
  if (kind !== 'cpu' && kind !== 'gpu') throw optionError('--kind', 'cpu or gpu', JSON.stringify(kind));
  return {
    repo,
    ...(values.name !== undefined && { name: values.name }),
    maxBatch: integer('max-batch', values['max-batch'], between(1, 65536)) ?? 32,
    instances: integer('instances', values.instances, between(1, 64)) ?? 1,
    kind: kind === 'cpu' ? 'KIND_CPU' : 'KIND_GPU',
    maxQueueDelayUs: integer('max-queue-delay-us', values['max-queue-delay-us'], between(0, 10_000_000)) ?? 1000,
  };
}

const DATATYPE: Partial<Record<DType, Datatype>> = { float32: 'FP32', float16: 'FP16', int64: 'INT64' };

/** One graph input or output as Triton declares it: its datatype and its dims after the batch axis. */
function tensor(v: Value, where: string): TritonTensor {
  const datatype = DATATYPE[v.type.dtype];
  if (!datatype) throw new Error(`${where} '${v.name}': ${v.type.dtype} has no Triton datatype here`);
  const dims = v.type.shape.slice(1).map((d) => (typeof d === 'number' ? d : -1));
  return { name: v.name, datatype, dims };
}

/** Triton's model configuration for an exported graph with a dynamic batch axis, named `name`. */
export function tritonConfig(graph: Graph, choice: TritonChoice, name: string): TritonModelConfig {
  const preferred: number[] = [];
  for (let b = 4; b <= choice.maxBatch; b *= 2) preferred.push(b);
  return {
    name,
    platform: 'onnxruntime_onnx',
    maxBatchSize: choice.maxBatch,
    inputs: graph.inputs.map((v) => ({ ...tensor(v, 'input'), format: 'FORMAT_NCHW' as const })),
    outputs: graph.outputs.map((v) => ({
      ...tensor(v, 'output'),
      ...(v.name === 'logits' && { labelFilename: 'labels.txt' }),
    })),
    dynamicBatching: {
      ...(preferred.length > 0 && { preferredBatchSize: preferred }),
      maxQueueDelayMicroseconds: choice.maxQueueDelayUs,
    },
    instanceGroup: [{ count: choice.instances, kind: choice.kind }],
  };
}

/** Writes the repository entry; returns the files written. An existing version folder needs `force`. */
export function writeTriton(
  graph: Graph,
  bytes: Uint8Array,
  choice: TritonChoice,
  arch: string,
  force: boolean,
): string[] {
  const logits = graph.outputs.find((v) => v.name === 'logits');
  const classes = logits ? Number(logits.type.shape.at(-1)) : 0;
  const config = tritonConfig(graph, choice, choice.name ?? arch.replace(/-/g, '_'));
  const written = writeTritonRepository({
    repo: choice.repo,
    config,
    model: bytes,
    ...(logits && { labels: modelLabels(graph.metadata, classes, quotePath(choice.repo)) }),
    overwrite: force,
  });
  return [written.configPath, written.modelPath, ...(written.labelsPath ? [written.labelsPath] : [])];
}
