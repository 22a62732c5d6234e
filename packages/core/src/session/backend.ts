import type { ExtraFeed } from '../tasks/task.js';
import { MobileNetError } from '../ir/errors.js';

/**
 * A backend's name, as the runtime package that owns it registers it ('cpu', 'wasm', 'webgpu', ...). Core knows
 * none of them: which backends exist is up to each runtime's registry (see `BackendRegistry`).
 */
export type BackendName = string;

export interface BackendStatus {
  readonly backend: BackendName;
  readonly available: boolean;
  /** Why the backend cannot be used here (missing library, no adapter, ...). */
  readonly reason?: string;
}

/** A model started on one backend, as the shared session logic runs it. */
export interface EngineSession {
  /**
   * Runs the model on [batch, 3, S, S] (and `feeds`, the inputs a task sets beside the image) and returns each of
   * `outputs`, row-major, as float32 (an int64 output, a detector's labels, converted).
   */
  run(
    input: Float32Array,
    dims: readonly number[],
    inputName: string,
    outputs: readonly string[],
    feeds?: Readonly<Record<string, ExtraFeed>>,
  ): Promise<Float32Array[]>;
  release(): Promise<void>;
}

/**
 * One backend, in onnxruntime-js's shape: a name, how to tell whether it works here, and how to start a model on
 * it with the session's options (its own defaults fill what they leave unset). `Started` is what the runtime
 * package's backends hand back (an onnxruntime session, say); the package turns it into an `EngineSession`.
 */
export interface Backend<Options, Started> {
  readonly name: BackendName;
  /** Why the backend cannot start here, from checks cheap enough to make before every session; null when it may. */
  precondition?(): string | null | Promise<string | null>;
  /** Why the backend does not work here, after trying it (what `availableBackends()` reports); default: `precondition`. */
  check?(): Promise<string | null>;
  /** Its own settings: defaults for the session options the caller leaves unset (e.g. a safer graph optimisation). */
  readonly defaults?: Partial<Options>;
  /** Starts a model; `options` already carry the backend's `defaults` (see `backendOptions`). */
  start(bytes: Uint8Array, options: Options): Promise<Started>;
}

/** The same backend with what its `start` returns wrapped (an onnxruntime session into the shared `EngineSession`). */
export function wrapStart<Options, A, B>(backend: Backend<Options, A>, wrap: (started: A) => B): Backend<Options, B> {
  return {
    name: backend.name,
    ...(backend.precondition && { precondition: () => backend.precondition!() }),
    ...(backend.check && { check: () => backend.check!() }),
    ...(backend.defaults && { defaults: backend.defaults }),
    start: async (bytes, o) => wrap(await backend.start(bytes, o)),
  };
}

/**
 * The options a backend starts with: its `defaults` under the caller's options (an option set to undefined is unset).
 * @internal
 */
export function backendOptions<Options extends object>(
  backend: Pick<Backend<Options, unknown>, 'defaults'> | undefined,
  options: Options,
): Options {
  if (!backend?.defaults) return options;
  const set = Object.entries(options).filter(([, v]) => v !== undefined);
  return { ...backend.defaults, ...Object.fromEntries(set) } as Options;
}

const NAME = /^[a-z][a-z0-9-]*$/;

/**
 * The backends of one runtime package. A backend registers itself with the package that owns it (that package's
 * `registerBackend`), and sessions, `availableBackends()` and the CLI read the registry: adding a backend changes
 * nothing else.
 */
export class BackendRegistry<Options, S extends EngineSession> {
  readonly #backends = new Map<BackendName, Backend<Options, S>>();

  /** `runtime` names the onnxruntime package in messages. */
  constructor(readonly runtime: string) {}

  register(backend: Backend<Options, S>): void {
    const where = `${this.runtime}: registerBackend`;
    if (typeof backend?.name !== 'string' || !NAME.test(backend.name)) {
      throw new MobileNetError(
        'backend',
        `${where}: name`,
        'lower-case letters, digits and dashes, starting with a letter',
        JSON.stringify(backend?.name),
      );
    }
    if (typeof backend.start !== 'function')
      throw new MobileNetError('backend', `${where}('${backend.name}'): start`, 'a function', typeof backend.start);
    if (this.#backends.has(backend.name))
      throw new MobileNetError(
        'backend',
        `${where}('${backend.name}')`,
        'a name not registered yet',
        `'${backend.name}', registered already`,
      );
    this.#backends.set(backend.name, backend);
  }

  get(name: BackendName): Backend<Options, S> | undefined {
    return this.#backends.get(name);
  }

  /** Registered names, in registration order. */
  names(): BackendName[] {
    return [...this.#backends.keys()];
  }

  /** Why `name` cannot start here (unknown, or its precondition fails), or null. */
  async precondition(name: BackendName): Promise<string | null> {
    const b = this.#backends.get(name);
    if (!b) return `backend '${name}' is not one of ${this.names().join(', ')} in ${this.runtime}`;
    return settle(() => b.precondition?.() ?? null);
  }

  /** Each registered backend, tried (its `check`, else its `precondition`) one after another, in registration order. */
  async status(): Promise<BackendStatus[]> {
    const out: BackendStatus[] = [];
    for (const b of this.#backends.values()) {
      const reason = await settle(() => (b.check ? b.check() : (b.precondition?.() ?? null)));
      out.push(reason ? { backend: b.name, available: false, reason } : { backend: b.name, available: true });
    }
    return out;
  }
}

/** A check that throws has still answered: its message is the reason. */
async function settle(check: () => string | null | Promise<string | null>): Promise<string | null> {
  try {
    return await check();
  } catch (e) {
    return String((e as Error)?.message ?? e).split('\n')[0]!;
  }
}
