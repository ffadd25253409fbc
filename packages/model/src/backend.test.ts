import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { selectBackend, TFJS_NODE, tf } from './backend.js';

const installed = (() => {
  try {
    createRequire(import.meta.url).resolve(TFJS_NODE);
    return true;
  } catch {
    return false;
  }
})();

test('without @tensorflow/tfjs-node the WebAssembly backend is chosen and the choice is logged', { skip: installed && `${TFJS_NODE} is installed here` }, async () => {
  const logged: Array<{ obj: object; msg: string }> = [];
  const choice = await selectBackend({ log: { info: (obj, msg) => logged.push({ obj, msg }) } });
  assert.equal(choice.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.match(choice.reason, /@tensorflow\/tfjs-node is not installed; using the WebAssembly backend/);
  assert.deepEqual(logged, [{ obj: { backend: 'wasm', reason: choice.reason }, msg: 'TensorFlow.js backend' }]);
});

test('a tfjs-node that fails to load (a broken libtensorflow) falls back to wasm too, saying why', async () => {
  const choice = await selectBackend({
    importNode: async () => {
      throw new Error('libtensorflow.so.2: cannot open shared object file');
    },
  });
  assert.equal(choice.name, 'wasm');
  assert.match(choice.reason, /failed to load: libtensorflow\.so\.2/);
});

test('asking for tensorflow when it cannot load is an error, not a silent fallback', async () => {
  await assert.rejects(
    selectBackend({ prefer: 'tensorflow', importNode: async () => Promise.reject(Object.assign(new Error('not found'), { code: 'ERR_MODULE_NOT_FOUND' })) }),
    (e: unknown) => (e as { code?: string }).code === 'FLOE_MODEL_BACKEND',
  );
  assert.equal((await selectBackend({ prefer: 'cpu' })).name, 'cpu');
  await selectBackend({ prefer: 'wasm' });
});
