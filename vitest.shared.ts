// Time limits of every package's tests, in one place: each vitest.config.ts and each test that bounds a step of
// its own (a browser page, a child process) reads them from here.
//
// Sized from the slowest tests, each measured alone on a 2-core machine (Intel Xeon, 2 cores, November 2026) while
// other test runs kept its load average at 4-9:
//   bench `--smoke` of the browser engines (Vite build, Chromium, SwiftShader)   43 s
//   core "120 models pass onnx.checker full_check"                              35-41 s (load 9)
//   demo e2e, one architecture on WebGPU in Chromium (SwiftShader), at 96x96    7-35 s
//   runtime-node WebGPU on onnxruntime-node's Dawn, one architecture at 64x64   17-28 s (load 7)
//   bench `--smoke` of every Node engine                                         11 s
// `pnpm test` runs six vitest processes and a Vite build at once on those 2 cores, which stretches a test about
// 3x more: the slowest step then takes about 130 s. The limits leave about 2x on top of that, so that only a hang
// reaches them.

/** Any one test or hook. */
export const TEST_TIMEOUT_MS = 300_000;
/** One step inside a test that could hang without a limit of its own (page.evaluate, waitForFunction, a child). */
export const STEP_TIMEOUT_MS = 240_000;

export const sharedTestOptions = { testTimeout: TEST_TIMEOUT_MS, hookTimeout: TEST_TIMEOUT_MS } as const;
