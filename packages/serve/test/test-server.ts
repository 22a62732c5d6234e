// A small Open Inference Protocol server for tests: node:http on 127.0.0.1 (port 0), this package's codec, and
// dummy models (Triton's "simple" add/sub, an identity of every datatype, a score passthrough with labels). The
// real `mobilenet serve` (runtime-node, dynamic batching, onnxruntime) is built on the same codec.
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DATATYPES } from '../src/protocol/datatypes.js';
import { checkRequestAgainstModel } from '../src/protocol/model.js';
import { EXTENSIONS, matchRoute } from '../src/protocol/routes.js';
import { parseInferRequest } from '../src/protocol/request.js';
import { type EncodedResponse, encodeError, encodeInferResponse, encodeJson } from '../src/protocol/response.js';
import { type ModelMetadata, ProtocolError, type RequestInput, type ResponseOutput } from '../src/protocol/types.js';

export interface DummyModel {
  metadata: ModelMetadata;
  batched: boolean;
  labels?: Record<string, string[]>;
  run(inputs: RequestInput[]): ResponseOutput[];
}

const byName = (inputs: RequestInput[], name: string) => inputs.find((i) => i.name === name)!;

export const DUMMY_MODELS: Record<string, DummyModel> = {
  // Triton's docs/examples "simple" model: OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1, INT32 [-1, 16].
  simple: {
    metadata: {
      name: 'simple',
      versions: ['1'],
      platform: 'dummy',
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [-1, 16] },
        { name: 'INPUT1', datatype: 'INT32', shape: [-1, 16] },
      ],
      outputs: [
        { name: 'OUTPUT0', datatype: 'INT32', shape: [-1, 16] },
        { name: 'OUTPUT1', datatype: 'INT32', shape: [-1, 16] },
      ],
    },
    batched: true,
    run(inputs) {
      const a = byName(inputs, 'INPUT0');
      const b = byName(inputs, 'INPUT1');
      const x = a.data as Int32Array;
      const y = b.data as Int32Array;
      return [
        { name: 'OUTPUT0', datatype: 'INT32', shape: a.shape, data: x.map((v, i) => v + y[i]!) },
        { name: 'OUTPUT1', datatype: 'INT32', shape: a.shape, data: x.map((v, i) => v - y[i]!) },
      ];
    },
  },
  // One input per datatype, named by it, echoed to the output of the same name.
  identity: {
    metadata: {
      name: 'identity',
      versions: ['1'],
      platform: 'dummy',
      inputs: DATATYPES.map((d) => ({ name: d, datatype: d, shape: [-1, -1] })),
      outputs: DATATYPES.map((d) => ({ name: d, datatype: d, shape: [-1, -1] })),
    },
    batched: true,
    run: (inputs) => inputs.map(({ name, datatype, shape, data }) => ({ name, datatype, shape, data })),
  },
  // Scores in, the same scores out, with labels for three of its four classes (the classification extension).
  scores: {
    metadata: {
      name: 'scores',
      versions: ['1'],
      platform: 'dummy',
      inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [{ name: 'SCORES', datatype: 'FP32', shape: [-1, 4] }],
    },
    batched: true,
    labels: { SCORES: ['zero', 'one', 'two'] },
    run: (inputs) => {
      const a = byName(inputs, 'INPUT0');
      return [{ name: 'SCORES', datatype: 'FP32', shape: a.shape, data: a.data }];
    },
  },
};

// The identity model takes any subset of its inputs: check each one it was given.
function check(model: DummyModel, request: ReturnType<typeof parseInferRequest>) {
  if (model.metadata.name !== 'identity') return checkRequestAgainstModel(request, model.metadata);
  const subset = {
    ...model.metadata,
    inputs: model.metadata.inputs.filter((t) => request.inputs.some((i) => i.name === t.name)),
  };
  checkRequestAgainstModel(request, subset);
}

const MAX_BODY = 16 * 1024 * 1024;

function readBody(req: IncomingMessage): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY) {
      reject(new ProtocolError(`request body of ${declared} bytes is more than the limit of ${MAX_BODY}`, 413));
      return;
    }
    const chunks: Buffer[] = [];
    let total = 0;
    req.on('data', (c: Buffer) => {
      total += c.length;
      if (total > MAX_BODY) {
        reject(new ProtocolError(`request body is more than the limit of ${MAX_BODY} bytes`, 413));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

async function route(req: IncomingMessage, models: Record<string, DummyModel>): Promise<EncodedResponse> {
  const r = matchRoute(req.method ?? 'GET', req.url ?? '/');
  switch (r.kind) {
    case 'server-metadata':
      return encodeJson({ name: 'mobilenet-serve-test', version: '0', extensions: [...EXTENSIONS] });
    case 'server-live':
      return encodeJson({ live: true });
    case 'server-ready':
      return encodeJson({ ready: true });
  }
  const model = models[r.model];
  if (!model) throw new ProtocolError(`unknown model '${r.model}'`, 404);
  if (r.version !== undefined && !model.metadata.versions?.includes(r.version)) {
    throw new ProtocolError(
      `model '${r.model}' has no version '${r.version}'; it has ${model.metadata.versions?.join(', ')}`,
      404,
    );
  }
  if (r.kind === 'model-metadata') return encodeJson(model.metadata);
  if (r.kind === 'model-ready') return encodeJson({ name: r.model, ready: true });
  const body = await readBody(req);
  const request = parseInferRequest(body, {
    headerLength: req.headers['inference-header-content-length'] as string | undefined,
  });
  check(model, request);
  const outputs = model.run(request.inputs);
  return encodeInferResponse(
    { model_name: r.model, model_version: '1', ...(request.id !== undefined ? { id: request.id } : {}), outputs },
    request,
    { batched: model.batched, ...(model.labels ? { labels: model.labels } : {}) },
  );
}

export interface TestServer {
  url: string;
  close(): Promise<void>;
}

export async function startTestServer(models: Record<string, DummyModel> = DUMMY_MODELS): Promise<TestServer> {
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    route(req, models)
      .catch(encodeError)
      .then((r) => {
        res.writeHead(r.status, { ...r.headers, 'Content-Length': String(r.body.length) });
        res.end(r.body);
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
