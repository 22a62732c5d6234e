// Type-checked in the scratch project with skipLibCheck false (tsconfig.json beside it): every public declaration
// of the packages, and of what they import, must compile in a strict consumer.
import { analyze, buildModel, toOnnx, type Analysis, type Graph, type ModelOptions } from '@mobilenet/core';
import { createSession, type NodeSession } from '@mobilenet/runtime-node';
import { createSession as createWebSession, type WebSession } from '@mobilenet/runtime-web';
import { main } from '@mobilenet/cli';
import { type Fidelity, type ModelProfile, fidelity, profileModel } from '@mobilenet/tools';

const options: ModelOptions = { arch: 'v2', width: 0.5, convention: 'torchvision', weights: 1 };
const graph: Graph = buildModel(options).graph;
const stats: Analysis = analyze(graph);
const bytes: Uint8Array = toOnnx(graph, { opset: 17 });

export async function run(): Promise<[number, string | undefined]> {
  const session: NodeSession = await createSession(bytes, { backend: 'cpu' });
  const [first] = await session.classify(['cat.jpg'], { topK: 3 });
  const label = first?.ok ? first.top[0]?.label : undefined;
  return [stats.macs, label];
}

export const web: (bytes: Uint8Array) => Promise<WebSession> = (b) => createWebSession(b, { backend: 'wasm' });
export const cli: (argv: string[]) => Promise<number> = main;
export const agree: (a: Float32Array[], b: Float32Array[]) => Fidelity = fidelity;
export const profile: typeof profileModel = profileModel;
export type Profile = ModelProfile;
