/**
 * Choosing the TensorFlow.js backend: `@tensorflow/tfjs-node` (native libtensorflow) when it is
 * installed, else the WebAssembly backend, else plain JavaScript (cpu). tfjs-node is not a
 * dependency of floe (its install downloads libtensorflow, which fails on machines without
 * internet access to Google's storage): it is loaded with a dynamic import inside try/catch.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { ModelError } from './errors.js';

/** TensorFlow.js backend names floe uses: `tensorflow` (tfjs-node), `wasm`, `cpu`. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

/** The backend chosen, and why. */
export interface BackendChoice {
  name: BackendName;
  /** Why: "tfjs-node loaded", or why it was not (module not found...) and what was used instead. */
  reason: string;
}

/** Where the choice is reported (a pino logger fits). */
export interface BackendLog {
  info(obj: object, msg: string): void;
}

/** Options of {@link selectBackend}. */
export interface BackendOptions {
  /** `auto` (default): tfjs-node, else wasm, else cpu. A name forces that backend (an error if it cannot start). */
  prefer?: 'auto' | BackendName;
  /** Loads tfjs-node (default: a dynamic import of `@tensorflow/tfjs-node`). */
  importNode?: () => Promise<unknown>;
  log?: BackendLog;
}

/** The package name of the native backend, loaded only when installed. */
export const TFJS_NODE = '@tensorflow/tfjs-node';

const importTfjsNode = (): Promise<unknown> => {
  // A variable specifier: TypeScript does not resolve it, and bundlers leave it alone.
  const name: string = TFJS_NODE;
  return import(name);
};

async function trySet(name: BackendName): Promise<string | undefined> {
  try {
    const ok = await tf.setBackend(name);
    await tf.ready();
    return ok ? undefined : `backend ${name} failed to initialise`;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Selects and initialises the backend (TensorFlow.js keeps it process-wide) and logs the choice
 * once at info level: `{ backend, reason }`, "TensorFlow.js backend".
 * @throws ModelError FLOE_MODEL_BACKEND when the preferred backend (or, with `auto`, every one) fails.
 */
export async function selectBackend(opts: BackendOptions = {}): Promise<BackendChoice> {
  const prefer = opts.prefer ?? 'auto';
  let choice: BackendChoice | undefined;
  if (prefer === 'auto' || prefer === 'tensorflow') {
    let why: string | undefined;
    try {
      await (opts.importNode ?? importTfjsNode)();
      why = await trySet('tensorflow');
    } catch (e) {
      const code = (e as { code?: string }).code;
      why = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' ? `${TFJS_NODE} is not installed` : `${TFJS_NODE} failed to load: ${(e as Error).message}`;
    }
    if (why === undefined) choice = { name: 'tensorflow', reason: `${TFJS_NODE} loaded` };
    else if (prefer === 'tensorflow') throw new ModelError('FLOE_MODEL_BACKEND', 'tensorflow', why);
    else {
      const wasm = await trySet('wasm');
      if (wasm === undefined) choice = { name: 'wasm', reason: `${why}; using the WebAssembly backend` };
      else {
        const cpu = await trySet('cpu');
        if (cpu !== undefined) throw new ModelError('FLOE_MODEL_BACKEND', 'auto', `${why}; wasm: ${wasm}; cpu: ${cpu}`);
        choice = { name: 'cpu', reason: `${why}; wasm: ${wasm}; using the JavaScript cpu backend` };
      }
    }
  } else {
    const why = await trySet(prefer);
    if (why !== undefined) throw new ModelError('FLOE_MODEL_BACKEND', prefer, why);
    choice = { name: prefer, reason: 'asked for' };
  }
  opts.log?.info({ backend: choice.name, reason: choice.reason }, 'TensorFlow.js backend');
  return choice;
}

let ready: Promise<BackendChoice> | undefined;

/**
 * The backend for this process: selected on first call (with these options), the same promise
 * after. TensorFlow.js holds one active backend per process, so this memo is the one piece of
 * process-level state of the package.
 */
export function ensureBackend(opts: BackendOptions = {}): Promise<BackendChoice> {
  ready ??= selectBackend(opts).catch((e: unknown) => {
    ready = undefined;
    throw e;
  });
  return ready;
}

export { tf };
