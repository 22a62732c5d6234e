import { type Model, MobileNetError } from '@mobilenet/core';
import { type NodeSession, type NodeSessionOptions, createSession } from '@mobilenet/runtime-node';

/** How the backends are called in prose. */
const SPOKEN: Record<string, string> = { cpu: 'The CPU backend', cuda: 'CUDA', webgpu: 'WebGPU' };

/**
 * `createSession` for a command: a backend that cannot start here is a failure of this machine, not of the command
 * line (exit 1, not 2), said as 'CUDA is not available here: <why>' with what to do instead.
 */
export async function openSession(
  source: string | Uint8Array | Model,
  options: NodeSessionOptions,
  instead: string,
): Promise<NodeSession> {
  try {
    return await createSession(source, options);
  } catch (e) {
    if (!(e instanceof MobileNetError) || e.code !== 'backend') throw e;
    const name = options.backend ?? 'cpu';
    throw new Error(`${SPOKEN[name] ?? `Backend ${name}`} is not available here: ${e.received} (${instead})`);
  }
}
