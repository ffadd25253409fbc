import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENOBUFS_WARNING, isDataGap, type DataGap, type FlowRecord } from '@floe/flow';
import { createMemoryBus, TOPICS } from '@floe/bus';
import { createRegistry } from '@floe/telemetry';
import { createCollector, GapTracker } from './index.js';
import { conntrackNetns, liveSkip } from './test-netns.js';

const testdata = (p: string) => fileURLToPath(new URL(`../../../packages/flow/testdata/${p}`, import.meta.url));

async function until<T>(what: string, ms: number, pred: () => T | undefined | false): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = pred();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function rig() {
  const bus = createMemoryBus();
  await bus.start();
  const gaps: DataGap[] = [];
  const keys: string[] = [];
  const flows: FlowRecord[] = [];
  await bus.subscribe<DataGap>(TOPICS.gaps, { group: 'test' }, async (b) => {
    for (const m of b.messages)
      if (m.value) {
        gaps.push(m.value);
        keys.push(m.key);
      }
  });
  await bus.subscribe<FlowRecord[]>(TOPICS.flows, { group: 'test' }, async (b) => {
    for (const m of b.messages) flows.push(...(m.value ?? []));
  });
  return { bus, gaps, keys, flows, registry: createRegistry({ defaultMetrics: false }) };
}

async function metricValue(registry: ReturnType<typeof createRegistry>, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const m = registry.getSingleMetric(name);
  if (!m) return undefined;
  const v = (await m.get()).values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value;
}

test('GapTracker: silence starts at exactly silentAfterMs (not 1 ms before), ends with the next line; ENOBUFS and rejections merge per tick', () => {
  let now = 1000;
  const g = new GapTracker('n1', 500, () => now);
  g.add('conntrack', true);
  g.add('replay', false);
  now = 1499;
  assert.deepEqual(g.tick().wentSilent, []);
  now = 1500;
  assert.deepEqual(g.tick().wentSilent, ['conntrack'], 'a replay is never silent');
  assert.equal(g.isSilent('conntrack'), true);
  now = 4000;
  assert.deepEqual(g.line('conntrack'), { schema: 1, node: 'n1', source: 'conntrack', kind: 'silent', from: 1000, to: 4000, count: 0 });
  assert.equal(g.line('conntrack'), undefined);
  g.enobufs('conntrack');
  now = 4100;
  g.enobufs('conntrack');
  g.flow('replay', 50_000);
  g.rejected('replay', 'line-too-long');
  g.flow('replay', 60_000);
  g.rejected('replay', 'bad-port');
  g.rejected('replay', 'bad-port');
  const t = g.tick();
  assert.deepEqual(t.gaps, [
    { schema: 1, node: 'n1', source: 'conntrack', kind: 'enobufs', from: 4000, to: 4100, count: 2 },
    { schema: 1, node: 'n1', source: 'replay', kind: 'rejected', from: 50_000, to: 60_000, count: 3, reasons: { 'line-too-long': 1, 'bad-port': 2 } },
  ]);
  assert.ok(t.gaps.every(isDataGap));
  assert.deepEqual(g.tick().gaps, [], 'reported once');
  now = 9000;
  g.tick();
  assert.deepEqual(g.finish(), [{ schema: 1, node: 'n1', source: 'conntrack', kind: 'silent', from: 4000, to: 9000, count: 0 }], 'an open silence is closed at stop');
});

test('ENOBUFS on conntrack -E stderr is counted per source and node and published as a data gap', async (t) => {
  // The kernel condition cannot be provoked reliably, so a stand-in `conntrack` prints the real
  // warning (conntrack-tools src/conntrack.c, three lines) on stderr and one real event line
  // (from the captured file) on stdout, then waits like conntrack -E does.
  const dir = mkdtempSync(join(tmpdir(), 'floe-enobufs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const event = readFileSync(testdata('conntrack/captured-conntrack-E-extended-timestamp-nmap-top100-scan.log'), 'utf8').split('\n')[0];
  writeFileSync(join(dir, 'event.txt'), `${event}\n`);
  const script = join(dir, 'conntrack');
  writeFileSync(
    script,
    `#!/bin/sh\ncat '${join(dir, 'event.txt')}'\nprintf 'WARNING: ${ENOBUFS_WARNING}\\nThis message means that the current netlink socket buffer size is too small.\\nPlease, check --buffer-size in conntrack(8) manpage.\\n' >&2\nexec sleep 600\n`,
  );
  chmodSync(script, 0o755);
  const r = await rig();
  t.after(() => r.bus.stop());
  const c = createCollector(
    { node: 'n1', batchSize: 10, flushMs: 10, gapIntervalMs: 30, silentAfterMs: 0, sources: [{ kind: 'conntrack', command: script }] },
    { bus: r.bus, metrics: r.registry },
  );
  await c.start();
  const gap = await until('an enobufs gap', 5000, () => r.gaps.find((g) => g.kind === 'enobufs'));
  await c.stop();
  assert.deepEqual([gap.node, gap.source, gap.count], ['n1', 'conntrack', 1]);
  assert.equal(r.keys[r.gaps.indexOf(gap)], 'n1/conntrack');
  assert.ok(isDataGap(gap));
  assert.equal(await metricValue(r.registry, 'floe_collector_events_lost_total', { source: 'conntrack', node: 'n1' }), 1);
  assert.equal(c.health().sources[0].eventsLost, 1);
  assert.equal(r.flows.length, 1, 'the event line beside the warning is still a flow');
});

test("a replay with an over-long line and bad lines publishes a rejected gap in the flows' own time", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-rejected-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const lines = readFileSync(testdata('conntrack/captured-conntrack-E-extended-timestamp-nmap-top100-scan.log'), 'utf8').split('\n').slice(0, 10);
  const file = join(dir, 'x.log');
  writeFileSync(file, [...lines.slice(0, 5), 'y'.repeat(200_000), '\x1b[2Jbad line', ...lines.slice(5)].join('\n'));
  const r = await rig();
  t.after(() => r.bus.stop());
  const c = createCollector(
    { node: 'n1', batchSize: 10, flushMs: 10, maxLineBytes: 65_536, sources: [{ kind: 'replay', file, format: 'conntrack', speed: 'max' }] },
    { bus: r.bus, metrics: r.registry },
  );
  await c.start();
  await c.finished;
  await c.stop();
  await until('10 flows delivered', 5000, () => r.flows.length >= 10);
  await until('the gap delivered', 5000, () => r.gaps.length > 0);
  assert.equal(r.flows.length, 10);
  assert.deepEqual(c.health().sources[0].byReason, { 'line-too-long': 1, 'control-byte': 1 });
  const gap = r.gaps.find((g) => g.kind === 'rejected');
  assert.ok(gap && isDataGap(gap));
  assert.deepEqual([gap.source, gap.count, gap.reasons], ['replay', 2, { 'line-too-long': 1, 'control-byte': 1 }]);
  const fifth = r.flows[4].observedAt;
  assert.deepEqual([gap.from, gap.to], [fifth, fifth], 'both rejected lines follow the fifth flow');
});

test('a live conntrack source with no events goes silent (metric, health), and the silence becomes a gap when events come back', {
  skip: liveSkip,
}, async (t) => {
  const ns = conntrackNetns(t, 'floe-sil');
  const r = await rig();
  t.after(() => r.bus.stop());
  const c = createCollector(
    { node: 'n1', batchSize: 10, flushMs: 10, gapIntervalMs: 25, silentAfterMs: 300, sources: [{ kind: 'conntrack', command: 'conntrack', netns: ns }] },
    { bus: r.bus, metrics: r.registry },
  );
  await c.start();
  t.after(() => c.stop());
  const source = `conntrack@${ns}`;
  await until('the source to go silent', 10_000, () => c.health().sources[0].silent);
  assert.equal(await metricValue(r.registry, 'floe_collector_source_silent', { source, node: 'n1' }), 1);
  assert.equal(await metricValue(r.registry, 'floe_collector_source_silent_total', { source, node: 'n1' }), 1);
  execFileSync('ip', ['netns', 'exec', ns, process.execPath, '-e', "const s=require('dgram').createSocket('udp4');s.send('x',9999,'127.0.0.1',()=>s.close())"]);
  const gap = await until('a silent gap', 10_000, () => r.gaps.find((g) => g.kind === 'silent'));
  assert.deepEqual([gap.node, gap.source, gap.count], ['n1', source, 0]);
  assert.ok(gap.to - gap.from >= 300, 'the gap spans at least silentAfterMs');
  assert.equal(c.health().sources[0].silent, false);
  assert.equal(await metricValue(r.registry, 'floe_collector_source_silent', { source, node: 'n1' }), 0);
  await until('the event as a flow', 5000, () => r.flows.some((f) => f.dstPort === 9999));
});
