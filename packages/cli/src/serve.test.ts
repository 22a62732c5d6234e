// `mobilenet serve` as a process: it serves what `export --triton` wrote, and on SIGTERM under load it stops
// accepting, answers every request it accepted, and exits 0. Bounded: 40 requests, 60 s.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { serializeBytes } from '@mobilenet/serve';
import { ROOT, BIN, cleanTmp, run, tmp } from '../test/testing.js';

afterAll(cleanTmp);

const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const JPEG = readFileSync(join(ROOT, 'packages/runtime-node/test/fixtures/scene.jpg'));

/** Starts `mobilenet serve ARGS`; resolves with the child, its URL (from the 'listening' line) and its output. */
function startServe(
  args: string[],
): Promise<{ child: ChildProcess; url: string; out: () => string; exit: Promise<number | null> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX_LOADER, '--conditions=source', BIN, 'serve', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const exit = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    const timer = setTimeout(
      () => (child.kill('SIGKILL'), reject(new Error(`no 'listening' line in 30 s: ${out}${err}`))),
      30_000,
    );
    child.stderr!.on('data', (d) => void (err += d));
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /"event":"listening","url":"([^"]+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, out: () => out + err, exit });
      }
    });
    void exit.then((code) => reject(new Error(`serve exited ${code} before listening: ${out}${err}`)));
  });
}

const imageRequest = () => {
  const blob = serializeBytes([JPEG]);
  const header = JSON.stringify({
    inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: blob.length } }],
    outputs: [{ name: 'logits', parameters: { classification: 1 } }],
  });
  return {
    body: Buffer.concat([Buffer.from(header), blob]),
    headers: { 'Inference-Header-Content-Length': String(header.length) },
  };
};

describe('mobilenet serve', () => {
  it('serves an export --triton repository; SIGTERM under load answers every accepted request, then exits 0', async () => {
    const repo = join(tmp(), 'models');
    const e = await run(
      'export',
      '--arch',
      'v3-small',
      '--width',
      '0.35',
      '--resolution',
      '64',
      '--triton',
      repo,
      '--max-batch',
      '8',
    );
    expect(e.code, e.err).toBe(0);
    const s = await startServe(['--repo', repo, '--port', '0', '--threads', '1']);
    try {
      const meta = (await (await fetch(`${s.url}/v2/models/v3_small`)).json()) as { inputs: { shape: number[] }[] };
      expect(meta.inputs[0]!.shape).toEqual([-1, 3, 64, 64]);
      const outcomes: string[] = [];
      const sent = Array.from({ length: 40 }, async () => {
        const { body, headers } = imageRequest();
        try {
          const r = await fetch(`${s.url}/v2/models/v3_small/infer`, { method: 'POST', body, headers });
          const j = (await r.json()) as { outputs?: { data: string[] }[] };
          outcomes.push(r.status === 200 && j.outputs?.[0]?.data.length === 1 ? 'answered' : `status ${r.status}`);
        } catch (err) {
          const code = (err as { cause?: { code?: string } }).cause?.code;
          outcomes.push(code === 'ECONNREFUSED' ? 'refused' : `lost: ${code ?? err}`);
        }
      });
      const first = Date.now();
      while (!outcomes.length && Date.now() - first < 20_000) await new Promise((r) => setTimeout(r, 5));
      s.child.kill('SIGTERM');
      await Promise.all(sent);
      expect(await s.exit).toBe(0);
      // Every request the server accepted was answered: its own count of connections and requests (in the
      // 'drained' line) is exactly the answers the clients got, plus the metadata request. The other clients got
      // ECONNREFUSED or ECONNRESET at the TCP level: connections still in the kernel's accept queue when the
      // listener closed, which the server never accepted (a client may retry those safely).
      const drained = JSON.parse(
        s
          .out()
          .split('\n')
          .find((l) => l.includes('"event":"drained"'))!,
      );
      const answered = outcomes.filter((o) => o === 'answered').length;
      expect(answered).toBeGreaterThan(1);
      expect([drained.connections, drained.requests, drained.in_flight]).toEqual([answered + 1, answered + 1, 0]);
      expect(outcomes.filter((o) => !['answered', 'refused', 'lost: ECONNRESET'].includes(o))).toEqual([]);
      const logged = s
        .out()
        .split('\n')
        .filter((l) => l.includes('"path":"/v2/models/v3_small/infer"'));
      expect(logged.length).toBe(answered);
      expect(logged.every((l) => l.includes('"status":200'))).toBe(true);
      expect(s.out()).toContain('"event":"draining","signal":"SIGTERM"');
      expect(s.out()).toContain('"event":"stopped"');
    } finally {
      s.child.kill('SIGKILL');
    }
  }, 60_000);

  it('serves .onnx files under their names, with the token from MOBILENET_SERVE_TOKEN', async () => {
    const dir = tmp();
    const file = join(dir, 'tiny_v3.onnx');
    const e = await run(
      'export',
      '--arch',
      'v3-small',
      '--width',
      '0.35',
      '--resolution',
      '64',
      '--batch',
      'dynamic',
      '-o',
      file,
    );
    expect(e.code, e.err).toBe(0);
    process.env.MOBILENET_SERVE_TOKEN = 'tok';
    const s = await startServe([file, '--port', '0', '--max-batch', '4']).finally(() => {
      delete process.env.MOBILENET_SERVE_TOKEN;
    });
    try {
      expect((await fetch(`${s.url}/v2/models/tiny_v3`)).status).toBe(401);
      const r = await fetch(`${s.url}/v2/models/tiny_v3/ready`, { headers: { Authorization: 'Bearer tok' } });
      expect(await r.json()).toEqual({ name: 'tiny_v3', ready: true });
      s.child.kill('SIGTERM');
      expect(await s.exit).toBe(0);
    } finally {
      s.child.kill('SIGKILL');
    }
  }, 60_000);

  it('refuses bad command lines with usage errors', async () => {
    expect((await run('serve')).err).toContain(
      'argument MODEL: expected at least one .onnx file, or --repo REPO, received none',
    );
    expect((await run('serve', 'a.onnx', '--repo', 'r')).code).toBe(2);
    expect((await run('serve', 'a.onnx', '--max-batch', '0')).err).toContain(
      'option --max-batch: expected an integer from 1 to 1024',
    );
  });
});
