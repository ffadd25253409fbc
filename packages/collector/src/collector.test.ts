import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FlowRecord } from '@floe/flow';
import { createMemoryBus, TOPICS } from '@floe/bus';
import { createRegistry } from '@floe/telemetry';
import { createCollector } from './index.js';
import { conntrackNetns, liveSkip } from './test-netns.js';

// Real files from shared/corpora, copied with their source lines in packages/flow/testdata/SOURCES.md.
const testdata = (p: string) => fileURLToPath(new URL(`../../../packages/flow/testdata/${p}`, import.meta.url));

async function collect(bus: ReturnType<typeof createMemoryBus>) {
  const got: Array<{ key: string; value: FlowRecord[] }> = [];
  await bus.subscribe<FlowRecord[]>(TOPICS.flows, { group: 'test' }, async (b) => {
    for (const m of b.messages) got.push({ key: m.key, value: m.value ?? [] });
  });
  return got;
}

test('replay of the real nmap capture publishes every flow, keyed by source address', async (t) => {
  const bus = createMemoryBus();
  await bus.start();
  t.after(() => bus.stop());
  const got = await collect(bus);
  const c = createCollector(
    {
      node: 'n1',
      batchSize: 100,
      flushMs: 20,
      sources: [{ kind: 'replay', file: testdata('conntrack/captured-conntrack-E-extended-timestamp-nmap-top100-scan.log'), format: 'auto', speed: 'max' }],
    },
    { bus },
  );
  await c.start();
  await c.finished;
  await c.stop();
  await new Promise((r) => setTimeout(r, 50));
  const flows = got.flatMap((m) => m.value);
  assert.equal(flows.length, 722);
  for (const m of got) for (const f of m.value) assert.equal(f.srcAddr, m.key, 'a message carries one source');
  assert.deepEqual([...new Set(got.map((m) => m.key))].sort(), ['10.50.0.2', '10.70.0.2']);
  assert.ok(flows.every((f) => f.node === 'n1' && f.source === 'conntrack'));
  const h = c.health();
  assert.equal(h.ok, true);
  assert.deepEqual(
    h.sources.map((s) => [s.state, s.flows, s.rejected]),
    [['done', 722, 0]],
  );
});

test('rejected lines are counted by reason, never dropped silently', async (t) => {
  const bus = createMemoryBus();
  await bus.start();
  t.after(() => bus.stop());
  const got = await collect(bus);
  const registry = createRegistry({ defaultMetrics: false });
  const file = testdata('iptables-log/crowdsec-hub-iptables-logs-with-malformed.log');
  const c = createCollector({ node: 'n1', batchSize: 10, flushMs: 10, sources: [{ kind: 'replay', file, format: 'kernel-log', speed: 'max' }] }, { bus, metrics: registry });
  await c.start();
  await c.finished;
  await c.stop();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(got.flatMap((m) => m.value).length, 3);
  assert.deepEqual(c.health().sources[0].byReason, { 'missing-field': 1 });
  const rejected = (await registry.getSingleMetric('floe_collector_rejected_total')!.get()).values;
  assert.deepEqual(rejected.map((v) => [v.labels.reason, v.value]).sort(), [['missing-field', 1]]);
});

test('replay at recorded pace waits between records (speed 20 over 2.6 s of capture ≈ 130 ms)', async (t) => {
  const bus = createMemoryBus();
  await bus.start();
  t.after(() => bus.stop());
  await collect(bus);
  // threads-conntrack-E-events.txt has no timestamps, so use the first 40 lines of the capture
  const { writeFileSync, readFileSync, mkdtempSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const lines = readFileSync(testdata('conntrack/captured-conntrack-E-extended-timestamp-nmap-top100-scan.log'), 'utf8').split('\n').slice(0, 40);
  const first = Number(/^\[(\d+\.\d+)\]/.exec(lines[0])![1]);
  const last = Number(/^\[(\d+\.\d+)\]/.exec(lines[39])![1]);
  const file = join(mkdtempSync(join(tmpdir(), 'floe-replay-')), 'head.log');
  writeFileSync(file, lines.join('\n') + '\n');
  const c = createCollector({ node: 'n1', batchSize: 500, flushMs: 10, sources: [{ kind: 'replay', file, format: 'conntrack', speed: 20 }] }, { bus });
  const t0 = Date.now();
  await c.start();
  await c.finished;
  const took = Date.now() - t0;
  await c.stop();
  const expected = ((last - first) * 1000) / 20;
  assert.ok(took >= expected - 20, `replay took ${took} ms, recorded span / 20 = ${expected.toFixed(0)} ms`);
});

test('a live source that exits on its own fails the collector (no zombie)', async (t) => {
  const bus = createMemoryBus();
  await bus.start();
  t.after(() => bus.stop());
  let failure: Error | undefined;
  const c = createCollector(
    { node: 'n1', batchSize: 10, flushMs: 10, sources: [{ kind: 'conntrack', command: 'false' }] },
    {
      bus,
      onFailure: (e) => {
        failure = e;
      },
    },
  );
  await c.start();
  await assert.rejects(c.finished, /conntrack exited unexpectedly \(code 1/);
  assert.match(failure?.message ?? '', /exited unexpectedly/);
  assert.equal(c.health().ok, false);
  await c.stop();
});

test('live conntrack events in a network namespace become flows', { skip: liveSkip }, async (t) => {
  const ns = conntrackNetns(t, 'floe-col');
  const bus = createMemoryBus();
  await bus.start();
  t.after(() => bus.stop());
  const got = await collect(bus);
  const bufferBytes = 4 << 20;
  const c = createCollector({ node: 'n1', batchSize: 10, flushMs: 10, sources: [{ kind: 'conntrack', command: 'conntrack', netns: ns, bufferBytes }] }, { bus });
  t.after(() => c.stop());
  await c.start();
  // conntrack -b took effect: its netlink socket's receive buffer (ss skmem rb; the kernel doubles
  // what setsockopt asks for) is at least what was configured, far above the 208 KiB default.
  // Polled: on a busy machine conntrack may take a while to start.
  let rb = 0;
  let sockets = '';
  for (const end = Date.now() + 10_000; rb < bufferBytes && Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
    sockets = execFileSync('ip', ['netns', 'exec', ns, 'ss', '-f', 'netlink', '-m', '-p'], { encoding: 'utf8' });
    for (const m of sockets.matchAll(/conntrack\/\d+[^\n]*?\n?[^\n]*?rb(\d+)/g)) rb = Math.max(rb, Number(m[1]));
  }
  assert.ok(rb >= bufferBytes, `a conntrack netlink socket with a receive buffer >= ${bufferBytes} in ${sockets}`);
  await new Promise((r) => setTimeout(r, 300));
  // a UDP datagram to a closed port on loopback: one NEW event
  execFileSync('ip', ['netns', 'exec', ns, process.execPath, '-e', "const s=require('dgram').createSocket('udp4');s.send('x',9999,'127.0.0.1',()=>s.close())"]);
  const end = Date.now() + 5000;
  while (!got.flatMap((m) => m.value).some((f) => f.dstPort === 9999) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  await c.stop();
  const f = got.flatMap((m) => m.value).find((x) => x.dstPort === 9999);
  assert.ok(f, 'the datagram was seen');
  assert.equal(f.protocol, 17);
  assert.equal(f.event, 'new');
  assert.equal(f.srcAddr, '127.0.0.1');
  assert.ok(f.ctId && /^\d+$/.test(f.ctId));
  assert.equal(c.health().sources[0].rejected, 0);
});

test('a publish failure started by the flush timer reaches onTimerError, and later adds throw it', async () => {
  const { FlowBatcher } = await import('./batcher.js');
  const bus = createMemoryBus();
  await bus.start();
  await bus.stop(); // publish now fails: the memory bus refuses work after stop()
  let timerError: Error | undefined;
  const b = new FlowBatcher(
    bus,
    100,
    10,
    () => undefined,
    (e) => {
      timerError = e;
    },
  );
  const flow = { schema: 1, observedAt: 1, source: 'conntrack', event: 'new', family: 4, protocol: 6, srcAddr: '192.0.2.1', dstAddr: '192.0.2.2' } as const;
  assert.equal(b.add({ ...flow }), undefined, 'below batchSize: no flush yet');
  const end = Date.now() + 2000;
  while (!timerError && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  assert.match(timerError?.message ?? '', /stop/);
  assert.throws(
    () => b.add({ ...flow }),
    (e) => e === timerError,
  );
});

test('conntrackEventArgs adds -b only for a buffer above 0', async () => {
  const { conntrackEventArgs, CONNTRACK_EVENT_ARGS } = await import('./sources.js');
  assert.deepEqual(conntrackEventArgs(), [...CONNTRACK_EVENT_ARGS]);
  assert.deepEqual(conntrackEventArgs(0), [...CONNTRACK_EVENT_ARGS]);
  assert.deepEqual(conntrackEventArgs(8388608), [...CONNTRACK_EVENT_ARGS, '-b', '8388608']);
});
