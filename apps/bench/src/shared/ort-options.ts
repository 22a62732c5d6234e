// The bench's one way to build onnxruntime-node session options, for the sessions it opens itself (the bare-session
// peer, the peak Gemm, the scripts); sessions through our runtime get theirs from createSession.
import type { InferenceSession } from 'onnxruntime-node';

export interface CpuOptions {
  /** Intra-op threads. */
  readonly threads: number;
  /**
   * Left out: onnxruntime's default (threads spin while waiting), as in the bench's cells. false when two sessions
   * alternate, so that one's spinning threads do not take the cores the other needs.
   */
  readonly spinning?: boolean;
}

/** CPU execution provider, `threads` intra-op threads, one inter-op (sequential execution uses none), `extra` on top. */
export function cpuOptions(
  o: CpuOptions,
  extra: InferenceSession.SessionOptions = {},
): InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
    intraOpNumThreads: o.threads,
    interOpNumThreads: 1,
    ...(o.spinning !== undefined && {
      extra: { session: { intra_op: { allow_spinning: o.spinning ? '1' : '0' } } },
    }),
    ...extra,
  };
}
