import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type BackendName, type BackendStatus, GraphBuilder, toOnnx } from '@mobilenet/core';
import * as ort from 'onnxruntime-node';

/** Debian's chromium package ships SwiftShader, a Vulkan driver on the CPU that Dawn can use. */
const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';

export const NODE_BACKENDS: readonly BackendName[] = ['cpu', 'cuda', 'webgpu'];

/** The folder where onnxruntime-node keeps its native libraries (and, when installed with CUDA, the providers). */
export function ortBinaryDir(): string {
  const pkg = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

/** Why CUDA cannot work before even trying, or null. */
function cudaPrecondition(): string | null {
  if (process.platform !== 'linux' && process.platform !== 'win32') return `onnxruntime-node has no CUDA provider for ${process.platform}`;
  const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  if (!existsSync(join(ortBinaryDir(), lib))) {
    return `${lib} is not in ${ortBinaryDir()}: onnxruntime-node was installed without its CUDA libraries (its install script fetches them only when allowed to run, e.g. with ONNXRUNTIME_NODE_INSTALL=cuda12; see "CUDA" in the @mobilenet/runtime-node README)`;
  }
  return null;
}

let probeModel: Uint8Array | undefined;
/** A one-node model to start a provider with. */
function probe(): Uint8Array {
  if (!probeModel) {
    const b = new GraphBuilder('probe');
    b.output(b.relu(b.input('input', [1, 1, 1, 1]), 'y'));
    probeModel = toOnnx(b.build());
  }
  return probeModel;
}

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0]!.trim();

/** Tries to start a provider on a one-node model; the error's first line is the reason it cannot. */
async function tryProvider(name: BackendName): Promise<string | null> {
  try {
    const s = await ort.InferenceSession.create(probe(), { executionProviders: [name] });
    await s.release();
    return null;
  } catch (e) {
    const msg = firstLine(e);
    if (name === 'webgpu' && /Failed to get a WebGPU adapter/.test(msg)) {
      const hint = existsSync(SWIFTSHADER) && !process.env.VK_ICD_FILENAMES ? `; without a GPU, VK_ICD_FILENAMES=${SWIFTSHADER} runs it on SwiftShader` : '';
      return `no WebGPU adapter: Dawn found no usable Vulkan device${hint}`;
    }
    return `onnxruntime-node could not start the ${name} provider: ${msg}`;
  }
}

/** Which backends work on this machine, and for each that does not, why. */
export async function availableBackends(): Promise<BackendStatus[]> {
  const out: BackendStatus[] = [];
  for (const backend of NODE_BACKENDS) {
    const reason = (backend === 'cuda' ? cudaPrecondition() : null) ?? (await tryProvider(backend));
    out.push(reason ? { backend, available: false, reason } : { backend, available: true });
  }
  return out;
}

/** The reason a backend cannot start, checked before a session is created (cheap checks only). */
export function backendPrecondition(backend: BackendName): string | null {
  return backend === 'cuda' ? cudaPrecondition() : null;
}
