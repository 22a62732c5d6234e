// Which onnxruntime-web build runs a backend. Measured in Chromium 156 (docs/web.md): the default bundle (JSEP,
// needed for WebGPU) runs the WASM provider 1.7x slower at 1 thread and 5.8x slower at 2 threads than the plain
// WASM build (`onnxruntime-web/wasm`). So WASM sessions load the plain build, WebGPU sessions the JSEP one; each
// is a separate module with its own settings, loaded on first use. In Node only the package root works.
import type * as OrtModule from 'onnxruntime-web';
import { MobileNetError } from '@mobilenet/core';

export type Ort = typeof OrtModule;
export type Build = 'wasm' | 'jsep';
export type WasmPaths = { readonly mjs?: string; readonly wasm?: string };

export interface OrtSettings {
  /**
   * Where each build's .mjs/.wasm are served from (your own origin; nothing is fetched elsewhere): a folder URL
   * holding both builds' files, or per build { mjs, wasm } URLs (bundlers: `?url` imports of
   * onnxruntime-web/ort-wasm-simd-threaded{,.jsep}.{mjs,wasm}).
   */
  readonly wasmPaths?: string | { readonly wasm?: WasmPaths; readonly jsep?: WasmPaths };
  /** WASM threads. Default: up to 4 when the page is cross-origin isolated, else 1 (browsers forbid more). */
  readonly wasmThreads?: number;
}

const inNode = typeof document === 'undefined' && typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';
const loaded = new Map<Build, Promise<Ort>>();

export const buildFor = (backend: string): Build => (backend === 'webgpu' ? 'jsep' : 'wasm');

/** The thread count a page allows, and why. */
export function wasmThreads(o: OrtSettings): { threads: number; why: string } {
  if (o.wasmThreads !== undefined && (!Number.isInteger(o.wasmThreads) || o.wasmThreads < 1)) {
    throw new MobileNetError('option', 'option wasmThreads', 'a positive integer', String(o.wasmThreads));
  }
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const cores = (globalThis.navigator as Navigator | undefined)?.hardwareConcurrency ?? 1;
  if (!inNode && !isolated) return { threads: 1, why: 'the page is not cross-origin isolated (serve COOP/COEP headers for threads)' };
  const threads = o.wasmThreads ?? Math.max(1, Math.min(4, cores));
  return { threads, why: `${threads} threads` };
}

/** Loads (once) and configures the build for a backend. Its settings are read at its first session. */
export function loadOrt(build: Build, o: OrtSettings): Promise<Ort> {
  let p = loaded.get(build);
  if (!p) {
    p = (inNode || build === 'jsep' ? import('onnxruntime-web') : import('onnxruntime-web/wasm')).then((ort) => {
      const paths = typeof o.wasmPaths === 'string' ? o.wasmPaths : o.wasmPaths?.[build];
      if (paths) ort.env.wasm.wasmPaths = paths as typeof ort.env.wasm.wasmPaths;
      ort.env.wasm.numThreads = wasmThreads(o).threads;
      return ort;
    });
    loaded.set(build, p);
  }
  return p;
}
