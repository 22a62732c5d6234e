// The backend seam: a registry of names that runtime packages fill; core itself knows none of them.
import { describe, expect, it } from 'vitest';
import { BackendRegistry, type EngineSession, backendOptions } from './backend.js';

const session: EngineSession = { run: async () => [new Float32Array(1)], release: async () => {} };
const start = async () => session;

describe('BackendRegistry', () => {
  it('lists backends in registration order; status tries each: check, else precondition; a throwing check is a reason', async () => {
    const r = new BackendRegistry<object, EngineSession>('test-runtime');
    r.register({ name: 'a', start });
    r.register({ name: 'b', precondition: () => 'no b here', start });
    r.register({
      name: 'c',
      precondition: () => null,
      check: async () => {
        throw new Error('probe crashed\nstack');
      },
      start,
    });
    expect(r.names()).toEqual(['a', 'b', 'c']);
    expect(await r.status()).toEqual([
      { backend: 'a', available: true },
      { backend: 'b', available: false, reason: 'no b here' },
      { backend: 'c', available: false, reason: 'probe crashed' },
    ]);
    expect(await r.precondition('c')).toBeNull();
    expect(await r.precondition('z')).toBe("backend 'z' is not one of a, b, c in test-runtime");
  });

  it('refuses a name twice, a name that is not a plain word, and a backend without start', () => {
    const r = new BackendRegistry<object, EngineSession>('test-runtime');
    r.register({ name: 'a', start });
    expect(() => r.register({ name: 'a', start })).toThrow(
      "test-runtime: registerBackend('a'): expected a name not registered yet, received 'a', registered already",
    );
    expect(() => r.register({ name: '', start })).toThrow(
      'test-runtime: registerBackend: name: expected lower-case letters, digits and dashes, starting with a letter, received ""',
    );
    expect(() => r.register({ name: 'x', start: undefined as never })).toThrow(
      "test-runtime: registerBackend('x'): start: expected a function, received undefined",
    );
    expect(r.names()).toEqual(['a']);
  });

  it("a backend's settings are defaults: what the caller sets wins, what it leaves undefined does not", () => {
    type O = { level?: string; threads?: number };
    const b = { defaults: { level: 'basic', threads: 2 } };
    expect(backendOptions<O>(b, { level: 'all', threads: undefined })).toEqual({ level: 'all', threads: 2 });
    expect(backendOptions<O>({}, { level: 'all' })).toEqual({ level: 'all' });
  });
});
