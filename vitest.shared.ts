// Time limits of every package's tests, in one place: each vitest.config.ts and each test that bounds a step of
// its own (a browser page, a child process) reads them from here.
//
// Sized from the slowest tests measured alone on a 2-core machine (Intel Xeon, 2 cores; November 2026), under the
// load of other helpers' test runs:
//   bench `--smoke` of every Node engine (one process)            ~15-35 s
//   bench `--smoke` of the browser engines (Vite build, Chromium) ~30-60 s
//   core "120 models pass onnx.checker full_check"                 ~15 s quiet, 35-50 s busy
//   runtime-node WebGPU on SwiftShader, one architecture at 64     ~3 s quiet, 20 s busy
//   demo e2e, one page test                                        ~10-60 s
// `pnpm test` runs six vitest processes and a Vite build at once on those 2 cores, which stretches each test
// about 3x; the limits below are 3x that again, so that only a hang reaches them.

/** Any one test or hook. */
export const TEST_TIMEOUT_MS = 300_000;
/** One step inside a test that could hang without a limit of its own (page.evaluate, waitForFunction, a child). */
export const STEP_TIMEOUT_MS = 180_000;

export const sharedTestOptions = { testTimeout: TEST_TIMEOUT_MS, hookTimeout: TEST_TIMEOUT_MS } as const;
