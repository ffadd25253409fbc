import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { Counter, Histogram, createLogger, createRegistry, metric, noopLogger, readMetric, type Logger } from './index.js';

function sink(lines: Array<Record<string, unknown>>): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
}

describe('Logger', () => {
  it('a pino logger is a Logger; a child adds its bindings to every line; levels below the threshold are dropped', () => {
    const lines: Array<Record<string, unknown>> = [];
    const root: Logger = createLogger({ level: 'info' }, sink(lines));
    const log = root.child({ component: 'bus', adapter: 'memory' });
    log.info({ topic: 't' }, 'hello');
    log.warn('message only');
    log.debug({ dropped: true }, 'below info');
    assert.equal(lines.length, 2);
    assert.deepEqual([lines[0].component, lines[0].adapter, lines[0].topic, lines[0].msg], ['bus', 'memory', 't', 'hello']);
    assert.equal(lines[1].msg, 'message only');
    assert.equal(lines[1].component, 'bus');
  });

  it('noopLogger writes nothing and its child is itself', () => {
    assert.equal(noopLogger.child({ component: 'x' }), noopLogger);
    assert.equal(noopLogger.level, 'silent');
    assert.doesNotThrow(() => noopLogger.error({ err: new Error('x') }, 'ignored'));
  });
});

describe('metrics helpers', () => {
  it('metric() registers once per registry: a second component gets the same instance', () => {
    const registry = createRegistry({ defaultMetrics: false });
    const make = () => new Counter({ name: 'floe_test_shared_total', help: 'h', registers: [registry] });
    const a = metric(registry, 'floe_test_shared_total', make);
    const b = metric(registry, 'floe_test_shared_total', make);
    assert.equal(a, b);
  });

  it('readMetric sums the samples matching the labels, counts histogram observations, undefined when absent', async () => {
    const registry = createRegistry({ defaultMetrics: false });
    const c = new Counter({ name: 'floe_test_c_total', help: 'h', labelNames: ['a', 'b'], registers: [registry] });
    c.inc({ a: 'x', b: '1' }, 2);
    c.inc({ a: 'x', b: '2' }, 3);
    c.inc({ a: 'y', b: '1' }, 5);
    assert.equal(await readMetric(registry, 'floe_test_c_total'), 10);
    assert.equal(await readMetric(registry, 'floe_test_c_total', { a: 'x' }), 5);
    assert.equal(await readMetric(registry, 'floe_test_c_total', { a: 'x', b: 2 }), 3);
    assert.equal(await readMetric(registry, 'floe_test_c_total', { a: 'z' }), undefined);
    assert.equal(await readMetric(registry, 'floe_test_absent_total'), undefined);
    const h = new Histogram({ name: 'floe_test_seconds', help: 'h', labelNames: ['t'], buckets: [0.1, 1], registers: [registry] });
    h.observe({ t: 'a' }, 0.5);
    h.observe({ t: 'a' }, 5);
    h.observe({ t: 'b' }, 0.01);
    assert.equal(await readMetric(registry, 'floe_test_seconds', { t: 'a' }), 2);
  });

  it('createRegistry prefixes the Node.js process metrics with floe_', async () => {
    const text = await createRegistry().metrics();
    assert.match(text, /^floe_process_cpu_user_seconds_total /m);
  });
});
