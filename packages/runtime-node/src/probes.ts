// How onnxruntime-node's built-in backends are checked: cheap preconditions first, then a one-node model started for real.
import './ort-env.js';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { GraphBuilder, toOnnx } from '@mobilenet/core';
import * as ort from 'onnxruntime-node';

/** Debian's chromium package ships SwiftShader, a Vulkan driver on the CPU that Dawn can use. */
const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
/** The Vulkan loader Dawn (onnxruntime-node's WebGPU) opens by this name on Linux. */
const VULKAN_LOADER = 'libvulkan.so.1';

const require = createRequire(import.meta.url);

/** The folder where onnxruntime-node keeps its native libraries (and, when installed with CUDA, the providers). */
export function ortBinaryDir(): string {
  const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
  return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

/** Why CUDA cannot work before even trying, or null. */
export function cudaPrecondition(): string | null {
  if (process.platform !== 'linux' && process.platform !== 'win32')
    return `onnxruntime-node has no CUDA provider for ${process.platform}`;
  const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  if (!existsSync(join(ortBinaryDir(), lib))) {
    return `${lib} is not in ${ortBinaryDir()}: onnxruntime-node was installed without its CUDA libraries (its install script fetches them only when allowed to run, e.g. with ONNXRUNTIME_NODE_INSTALL=cuda12; see "CUDA" in the @mobilenet/runtime-node README)`;
  }
  return null;
}

let loaderMissing: string | null | undefined;
/**
 * Why Dawn cannot load Vulkan here, or null. The loader is looked up the way Dawn does it, with dlopen by name
 * (LD_LIBRARY_PATH, then the ld cache), so the answer is Dawn's: Debian's chromium carries a private copy in
 * /usr/lib/chromium that Dawn never sees. process.dlopen on a library that is not a Node addon still dlopens it
 * first: "did not self-register" means it was found and loaded.
 */
export function vulkanLoaderMissing(): string | null {
  if (process.platform !== 'linux') return null;
  if (loaderMissing === undefined) {
    try {
      process.dlopen({ exports: {} } as NodeJS.Module, VULKAN_LOADER);
      loaderMissing = null;
    } catch (e) {
      const msg = (e as Error).message;
      loaderMissing = /did not self-register|no such symbol|undefined symbol/i.test(msg)
        ? null
        : `the Vulkan loader ${VULKAN_LOADER} is not installed, and Dawn (onnxruntime-node's WebGPU) needs it: apt-get install libvulkan1 (dlopen: ${firstLine(e)})`;
    }
  }
  return loaderMissing;
}

/** Whether `dir` is a usable XDG_RUNTIME_DIR: an absolute path to a folder of this user's that only it can enter. */
export function validRuntimeDir(dir: string | undefined): boolean {
  if (!dir || !isAbsolute(dir)) return false;
  try {
    const s = statSync(dir);
    return s.isDirectory() && (process.getuid === undefined || s.uid === process.getuid()) && (s.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

let privateRuntimeDir: string | undefined;
/**
 * The environment for starting Dawn: where XDG_RUNTIME_DIR is unset or invalid (a container, `su`, a CI job), the
 * Vulkan loader's window-system code prints 'XDG_RUNTIME_DIR is invalid or not set' even though WebGPU then works
 * (it needs no display). A private empty folder (mode 0700, removed at exit) stands in for it; a valid one is kept.
 */
export function webgpuEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (process.platform !== 'linux' || validRuntimeDir(env.XDG_RUNTIME_DIR)) return env;
  if (!privateRuntimeDir) {
    const dir = mkdtempSync(join(tmpdir(), 'mobilenet-xdg-'));
    privateRuntimeDir = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return { ...env, XDG_RUNTIME_DIR: privateRuntimeDir };
}

/**
 * Before Dawn starts in this process: XDG_RUNTIME_DIR as `webgpuEnv` makes it (only where it was unset or invalid,
 * so that the loader has nothing to complain about).
 */
export function useWebGpuEnv(): void {
  const dir = webgpuEnv().XDG_RUNTIME_DIR;
  if (dir !== undefined && dir !== process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = dir;
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

/** Tries to start a provider on a one-node model in this process; the error's first line is the reason it cannot. */
export async function tryProvider(name: string): Promise<string | null> {
  try {
    const s = await ort.InferenceSession.create(probe(), { executionProviders: [name] });
    await s.release();
    return null;
  } catch (e) {
    return `onnxruntime-node could not start the ${name} provider: ${firstLine(e)}`;
  }
}

// Started in a child process: Dawn writes its warnings ("Couldn't load Vulkan", "Found no drivers") straight to
// file descriptor 2, which nothing in this process can silence. The child's stderr is kept for the reason instead.
const CHILD = `const ort = require(process.argv[1]);
ort.InferenceSession.create(Buffer.from(process.argv[2], 'base64'), { executionProviders: ['webgpu'] })
  .then((s) => s.release())
  .then(() => process.stdout.write('ok'), (e) => process.stdout.write(String(e && e.message).split('\\n')[0]));`;

/** Starts Dawn on a one-node model in a child process: null when an adapter starts, else what Dawn said. */
export function tryWebGpu(): Promise<string | null> {
  const args = ['-e', CHILD, require.resolve('onnxruntime-node'), Buffer.from(probe()).toString('base64')];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { encoding: 'utf8', timeout: 120_000, env: webgpuEnv() },
      (error, stdout, stderr) => {
        if (stdout === 'ok') return resolve(null);
        const dawn = stderr
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => /^Warning:|^Error:/.test(l))
          .map((l) => l.replace(/^(Warning|Error):\s*/, ''));
        const said = dawn.length ? ` (Dawn: ${[...new Set(dawn)].join('; ')})` : '';
        if (/Failed to get a WebGPU adapter/.test(stdout)) {
          const hint =
            existsSync(SWIFTSHADER) && !process.env.VK_ICD_FILENAMES
              ? `; without a GPU, VK_ICD_FILENAMES=${SWIFTSHADER} runs it on SwiftShader`
              : '';
          return resolve(`no WebGPU adapter: Dawn found no usable Vulkan device${said}${hint}`);
        }
        resolve(
          `onnxruntime-node could not start the webgpu provider: ${stdout || error?.message || 'the probe process printed nothing'}${said}`,
        );
      },
    );
  });
}
