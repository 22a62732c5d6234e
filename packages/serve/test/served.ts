// A real served model for the server's tests: MobileNet v3-small (width 0.35, 64 px) with the formula weights of
// @mobilenet/core/testing (deterministic, logits of order 1, unlike a fresh init's 1e-8), the classifier's scaled
// by 10 so that softmax is peaked (formula weights alone give every class about 1/1000), written as an .onnx file
// with a dynamic batch axis, opened in onnxruntime-node and served on 127.0.0.1, port 0.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type ParamFiller, buildModel, toOnnx } from '@mobilenet/core';
import { formulaFill } from '@mobilenet/core/testing';
import { type NodeSession, createSession } from '@mobilenet/runtime-node';
import type { RunningServer } from '../src/server/server.js';
import { startServer } from '../src/server/server.js';
import { sessionModel } from '../src/server/session-model.js';
import type { ServerOptions } from '../src/server/options.js';

export const IMAGES = ['scene.jpg', 'scene.png', 'scene.webp', 'tall.png', 'gray.png', 'cmyk.jpg'].map((f) =>
  resolve(import.meta.dirname, '../../runtime-node/test/fixtures', f),
);

/** Writes the test model to a fresh folder; returns its path and a cleanup. */
export function writeTestModel(): { dir: string; path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'mobilenet-serve-'));
  const weights: ParamFiller = (p) => {
    const w = formulaFill(p);
    return p.dims[0]! >= 1000 ? w!.map((v) => 10 * v) : w;
  };
  const model = buildModel({ arch: 'v3-small', width: 0.35, resolution: 64, weights });
  const path = join(dir, 'tiny.onnx');
  writeFileSync(path, toOnnx(model.graph, { batch: 'dynamic' }));
  return { dir, path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Served {
  server: RunningServer;
  session: NodeSession;
  url: string;
  close(): Promise<void>;
}

/** Serves the model at `path` as 'tiny'; `options` are the server's. */
export async function serveTestModel(path: string, options: Partial<ServerOptions> = {}): Promise<Served> {
  const session = await createSession(path, { threads: 1 });
  const model = await sessionModel(session, { name: 'tiny' });
  const server = await startServer([model], { port: 0, ...options });
  return {
    server,
    session,
    url: server.url,
    async close() {
      await server.close(2000);
      await session.release();
    },
  };
}
