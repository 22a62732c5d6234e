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
  /** @deprecated The same as option `threads`, which both runtimes share. */
  readonly wasmThreads?: number;
}

/** A WASM thread count, and why that many. */
export interface WasmThreads {
  readonly threads: number;
  readonly why: string;
}

const inNode =
  typeof document === 'undefined' &&
  typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';
const loaded = new Map<Build, Promise<Ort>>();
/** The count each loaded build runs with: onnxruntime-web reads env.wasm.numThreads once, at its first session. */
const inEffect = new Map<Ort, WasmThreads>();

/** The count a session asks for: option `threads`, or its deprecated alias `wasmThreads`; undefined for the default. */
function askedThreads(o: OrtSettings & { readonly threads?: number }): number | undefined {
  if (o.wasmThreads !== undefined && (!Number.isInteger(o.wasmThreads) || o.wasmThreads < 1)) {
    throw new MobileNetError('option', 'option wasmThreads', 'a positive integer', String(o.wasmThreads));
  }
  if (o.threads !== undefined && o.wasmThreads !== undefined && o.threads !== o.wasmThreads) {
    throw new MobileNetError(
      'option',
      'option wasmThreads',
      `nothing, or the same count as option threads (${o.threads}): it is a deprecated alias`,
      String(o.wasmThreads),
    );
  }
  return o.threads ?? o.wasmThreads;
}

/** The thread count a page allows a session that asks with these options, and why. */
export function allowedThreads(o: OrtSettings & { readonly threads?: number }): WasmThreads {
  const asked = askedThreads(o);
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const cores = (globalThis.navigator as Navigator | undefined)?.hardwareConcurrency ?? 1;
  if (!inNode && !isolated)
    return { threads: 1, why: 'the page is not cross-origin isolated (serve COOP/COEP headers for threads)' };
  if (asked !== undefined) return { threads: asked, why: `option threads: ${asked}` };
  const threads = Math.max(1, Math.min(4, cores));
  return { threads, why: `the default: up to 4, one per core (${cores} here)` };
}

/**
 * The count in effect for a session on a loaded build: the one its first session set. A later session that asks
 * for another count gets the count in effect, and why it did not get its own.
 */
export function threadsInEffect(ort: Ort, o: OrtSettings & { readonly threads?: number }): WasmThreads {
  const first = inEffect.get(ort);
  if (!first) throw new Error('threadsInEffect: the onnxruntime-web build was not loaded by loadOrt');
  const want = allowedThreads(o);
  if (askedThreads(o) === undefined || want.threads === first.threads) return first;
  return {
    threads: first.threads,
    why: `onnxruntime-web fixed ${first.threads} thread(s) at this page's first session (${first.why}); this session asked for ${want.threads}, which takes a page reload`,
  };
}

/** Loads (once) and configures the build for a backend. Its settings are read at its first session. */
export function loadOrt(build: Build, o: OrtSettings & { readonly threads?: number }): Promise<Ort> {
  let p = loaded.get(build);
  if (!p) {
    p = (inNode || build === 'jsep' ? import('onnxruntime-web') : import('onnxruntime-web/wasm')).then((ort) => {
      // In Node both builds are the package root: one module, configured once.
      if (inEffect.has(ort)) return ort;
      const paths = typeof o.wasmPaths === 'string' ? o.wasmPaths : o.wasmPaths?.[build];
      if (paths) ort.env.wasm.wasmPaths = paths as typeof ort.env.wasm.wasmPaths;
      const threads = allowedThreads(o);
      ort.env.wasm.numThreads = threads.threads;
      inEffect.set(ort, threads);
      return ort;
    });
    loaded.set(build, p);
  }
  return p;
}
