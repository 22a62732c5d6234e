import type { BackendName, BackendStatus } from '@mobilenet/core';

export const WEB_BACKENDS: readonly BackendName[] = ['wasm', 'webgpu'];

/** Why WebGPU cannot run here, or null. */
export async function webgpuUnavailable(): Promise<string | null> {
  const gpu = (globalThis.navigator as (Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }) | undefined)?.gpu;
  if (!gpu) {
    const secure = (globalThis as { isSecureContext?: boolean }).isSecureContext;
    return secure === false ? 'navigator.gpu is missing: WebGPU needs a secure context (https or localhost)' : 'navigator.gpu is missing: this browser has no WebGPU (or it is disabled)';
  }
  try {
    return (await gpu.requestAdapter()) ? null : 'no WebGPU adapter: navigator.gpu.requestAdapter() returned null';
  } catch (e) {
    return `no WebGPU adapter: ${(e as Error).message}`;
  }
}

/** Which backends work in this page, and for each that does not, why. */
export async function availableBackends(): Promise<BackendStatus[]> {
  const wasm = typeof WebAssembly === 'object' ? null : 'WebAssembly is not available';
  const webgpu = await webgpuUnavailable();
  return [
    wasm ? { backend: 'wasm', available: false, reason: wasm } : { backend: 'wasm', available: true },
    webgpu ? { backend: 'webgpu', available: false, reason: webgpu } : { backend: 'webgpu', available: true },
  ];
}
