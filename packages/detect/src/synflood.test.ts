// dos.synflood on real captures (testdata/capture-rules.sh, SOURCES.md): hping3 SYN floods from one
// source and from random spoofed sources against a listening python3 http.server, and a normal burst
// of curl requests between the same hosts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Finding } from '@floe/flow';
import { createSynFloodDetector, DetectError, defaultSynFloodOptions, synFloodSignal, SYNFLOOD_ID } from './index.js';
import { loadCapture as load, runDetector as run, testdata } from './test-captures.js';

const FLOOD = testdata('captured-conntrack-E-extended-timestamp-syn-flood.log');
const SPOOFED = testdata('captured-conntrack-E-extended-timestamp-syn-spoofed.log');
const BURST = testdata('captured-conntrack-E-extended-timestamp-http-burst.log');

test('hping3 SYN flood from one source (1000 SYNs at 500/s to a listening port): the source is the entity', async () => {
  const flows = await load(FLOOD);
  const { all, last } = run(createSynFloodDetector(defaultSynFloodOptions()), flows);
  assert.equal(last.length, 1);
  const [f] = last;
  assert.equal(f.detector, SYNFLOOD_ID);
  assert.equal(f.mitre, 'T1499.001');
  assert.deepEqual([f.entity.addr, f.peers, f.evidence.entityRole, f.evidence.victim, f.evidence.dstPort], ['10.231.1.2', ['10.231.1.1'], 'source', '10.231.1.1', 8080]);
  // Every SYN was answered by a SYN-ACK and reset by the attacker's kernel: none established.
  assert.deepEqual([f.evidence.flows, f.evidence.halfOpen, f.evidence.established, f.evidence.distinctSources], [1000, 1000, 0, 1]);
  assert.deepEqual(f.evidence.topSources, [{ addr: '10.231.1.2', flows: 1000 }]);
  assert.ok(f.lastSeen - f.firstSeen < 3000, 'the flood lasted about 2 s');
  assert.match(f.summary, /^10\.231\.1\.2 flooded 10\.231\.1\.1:8080 with 1000 half-open TCP connections/);
  assert.deepEqual(
    all.map((x) => x.evidence.halfOpen),
    [200, 400, 800, 1000],
  );
});

test('hping3 --rand-source flood: one finding about the victim, with the sources counted, never naming a spoofed source', async () => {
  const flows = await load(SPOOFED);
  const news = flows.filter((f) => f.event === 'new').length;
  const { last } = run(createSynFloodDetector(defaultSynFloodOptions()), flows);
  assert.equal(last.length, 1);
  const [f] = last;
  assert.deepEqual([f.entity.addr, f.evidence.entityRole, f.severity], ['10.231.1.1', 'victim', 'high']);
  assert.equal(f.evidence.halfOpen, news);
  // Linear counting over 1024 bits: within 10 % of the (about) one source per SYN.
  const distinct = f.evidence.distinctSources as number;
  assert.ok(Math.abs(distinct - news) < news * 0.1, `${distinct} distinct sources estimated for ${news} SYNs`);
  assert.match(f.summary, /^10\.231\.1\.1:8080 received \d+ half-open TCP connections from about \d+ sources \(spoofed or distributed/);
  assert.ok(!f.peers.includes('10.231.1.1'));
});

test('a normal burst of 30 HTTP requests between the same hosts: 30 attempts, all established, no finding', async () => {
  const d = createSynFloodDetector({ ...defaultSynFloodOptions(), minHalfOpen: 2 });
  const { all } = run(d, await load(BURST));
  assert.deepEqual(all, [], 'not even with a threshold of 2 half-open connections');
  assert.equal(d.stats().attempts, 30);
});

test('signals of real records: NEW SYN_SENT +1, UPDATE ESTABLISHED -1, SYN_RECV and an established DESTROY 0', async () => {
  const flows = await load(BURST);
  const burst = flows.filter((f) => f.srcPort === flows[0].srcPort);
  assert.deepEqual(
    burst.map((f) => [f.event, f.state, synFloodSignal(f)]),
    [['new', 'SYN_SENT', 1], ['update', 'SYN_RECV', 0], ['update', 'ESTABLISHED', -1], ...burst.slice(3).map((f) => [f.event, f.state, 0])],
  );
});

test('a DESTROY-only stream of the flood (reset handshakes, CLOSE 10 s later): the same source, one half-open per DESTROY', async () => {
  // The kernel's garbage collector destroys them in a burst: conntrack lost a few events (ENOBUFS).
  const flows = (await load(FLOOD)).filter((f) => f.event === 'destroy' && f.dstPort === 8080);
  assert.ok(flows.length > 900, `${flows.length} DESTROY events`);
  const { last } = run(createSynFloodDetector(defaultSynFloodOptions()), flows);
  assert.deepEqual(
    last.map((f) => [f.entity.addr, f.evidence.entityRole, f.evidence.halfOpen]),
    [['10.231.1.2', 'source', flows.length]],
  );
  // A flow-log import of the same (no TCP state; an unanswered SYN has no reply packet): reset
  // handshakes had replies and do not count, the same flows without replies do.
  const stateless = flows.map((f) => ({ ...f, state: undefined }));
  assert.equal(run(createSynFloodDetector(defaultSynFloodOptions()), stateless).last.length, 0);
  const unanswered = stateless.map((f) => ({ ...f, packetsReply: 0, bytesReply: 0 }));
  assert.equal(run(createSynFloodDetector(defaultSynFloodOptions()), unanswered).last[0]?.evidence.halfOpen, flows.length);
  // With its NEW events the DESTROYs never count twice (the full capture: 1000, not 2000).
  assert.equal(run(createSynFloodDetector(defaultSynFloodOptions()), await load(FLOOD)).last[0].evidence.halfOpen, 1000);
});

test('streaming: raised and updated by observe; the final form when the destination was quiet a window (record-driven, or expire)', async () => {
  const flows = await load(FLOOD);
  const firstDestroy = flows.findIndex((f) => f.event === 'destroy');
  // The full stream: the DESTROY events, 10 s and more after the flood, move event time past the
  // window's end plus the 5-s lateness and close it from observe.
  const d = createSynFloodDetector(defaultSynFloodOptions());
  const seen: Finding[] = [];
  for (const f of flows) seen.push(...d.observe(f));
  assert.deepEqual(
    seen.map((f) => f.evidence.halfOpen),
    [200, 400, 800, 1000],
  );
  assert.deepEqual([d.stats().openFindings, d.stats().finals], [0, 1]);
  assert.deepEqual(d.flush(), []);
  // Cut before the DESTROYs (an idle stream): open until expire reaches a quiet window.
  const e = createSynFloodDetector(defaultSynFloodOptions());
  const early: Finding[] = [];
  for (const f of flows.slice(0, firstDestroy)) early.push(...e.observe(f));
  assert.equal(early.length, 3);
  const lastSyn = Math.max(...flows.filter((f) => f.event === 'new').map((f) => f.observedAt));
  assert.deepEqual(e.expire(lastSyn + 9_999), [], 'quiet for less than the 10-s window: still open');
  assert.deepEqual(
    e.expire(lastSyn + 10_000).map((f) => [f.id, f.evidence.halfOpen, f.lastSeen]),
    [[early[0].id, 1000, lastSyn]],
  );
  assert.deepEqual(e.flush(), []);
});

test('the threshold on the real flood: 1000 half-open raise with minHalfOpen 1000, not with 1001', async () => {
  const flows = await load(FLOOD);
  assert.equal(run(createSynFloodDetector({ ...defaultSynFloodOptions(), minHalfOpen: 1000 }), flows).last.length, 1);
  assert.equal(run(createSynFloodDetector({ ...defaultSynFloodOptions(), minHalfOpen: 1001 }), flows).last.length, 0);
});

test('bad options: FLOE_DETECT_BAD_OPTIONS naming the field', () => {
  for (const [over, field] of [
    [{ minHalfOpen: 1 }, 'synflood.minHalfOpen'],
    [{ dominantShare: 0 }, 'synflood.dominantShare'],
    [{ dominantShare: 1.5 }, 'synflood.dominantShare'],
    [{ windowMs: 0 }, 'synflood.windowMs'],
  ] as const) {
    assert.throws(
      () => createSynFloodDetector({ ...defaultSynFloodOptions(), ...(over as object) }),
      (e: unknown) => e instanceof DetectError && e.code === 'FLOE_DETECT_BAD_OPTIONS' && e.field === field,
    );
  }
});
