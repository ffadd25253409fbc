// Findings that tell the truth (issue 6), on real captures parsed by the real @floe/flow parser
// (testdata/SOURCES.md): first/last seen from the records' own times whatever their order, the
// final counts at the end of a window or a run (not the last doubling), and no duration claimed
// when the source has no timing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { parseFile, type Finding, type FlowRecord } from '@floe/flow';
import { connectionIdentity, createDetectors, createPortScanDetector, defaultDetectorOptions, type Detector } from './index.js';

const testdata = (name: string) => fileURLToPath(new URL(`../testdata/${name}`, import.meta.url));
/** 101 NEW events of an nmap SYN scan of ports 1-101, `conntrack -E -o extended,timestamp,id`. */
const SCAN101_E = testdata('captured-conntrack-E-extended-timestamp-nmap-101-ports.log');
/** The same 101 connections as a `conntrack -L` dump: no time stamps. */
const SCAN101_L = testdata('captured-conntrack-L-nmap-101-ports.txt');
const TOP100 = testdata('captured-conntrack-E-extended-timestamp-nmap-top100-scan.log');
const IKI = testdata('iki-conntrack-L-ssh-scan.txt');
const READ_AT = Date.UTC(2030, 0, 1);

/** Parses a capture. `clock` stands in for the reader's clock (used only for lines without a time). */
async function load(path: string, clock: () => number = () => READ_AT): Promise<FlowRecord[]> {
  const r = await parseFile(path, { format: 'conntrack', now: clock });
  assert.equal(r.stats.rejected, 0);
  return r.records;
}

/** A reader clock that advances 7 ms per line read, as Date.now does while a dump is parsed. */
function tickingClock(): () => number {
  let t = READ_AT;
  return () => (t += 7);
}

/** Every record through the detectors, then flush: every form emitted, in order. */
function runAll(detectors: Detector[], flows: FlowRecord[]): Finding[] {
  const out: Finding[] = [];
  for (const f of flows) for (const d of detectors) out.push(...d.observe(f));
  for (const d of detectors) out.push(...d.flush());
  return out;
}

/** The last form of each id (what a store holds after upserting every emission). */
function finalForms(out: Finding[]): Finding[] {
  const m = new Map<string, Finding>();
  for (const f of out) m.set(f.id, f);
  return [...m.values()];
}

/** Deterministic Fisher-Yates shuffle (mulberry32 PRNG), so a failure names its seed. */
function shuffled<T>(xs: T[], seed: number): T[] {
  let s = seed >>> 0;
  const rnd = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const a = xs.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

const defaults = defaultDetectorOptions(); // 15 ports in 60 s, as shipped
const policyLike = { ...defaults, portscan: { ...defaults.portscan, updateOnDouble: true }, hostsweep: { ...defaults.hostsweep, updateOnDouble: true } };

test('101-port nmap scan: the final form reports 101 ports and 101 flows, not the last doubling (60)', async () => {
  const flows = await load(SCAN101_E);
  assert.equal(flows.length, 101);
  const out = runAll(createDetectors(policyLike), flows);
  // Raised at 15, updated at 30 and 60, final at the end of the run: one id throughout.
  assert.deepEqual(
    out.map((f) => f.evidence.distinctPorts),
    [15, 30, 60, 101],
  );
  assert.equal(new Set(out.map((f) => f.id)).size, 1);
  const [f] = finalForms(out);
  assert.equal(f.evidence.distinctPorts, 101);
  assert.equal(f.evidence.flows, 101);
  assert.deepEqual(f.evidence.ports?.slice(0, 3), [1, 2, 3]);
  assert.equal(f.evidence.ports?.length, 50);
  assert.match(f.summary, /^10\.231\.1\.2 probed 101 distinct ports of 10\.231\.1\.1 within \d\.\d s \(threshold 15 in 60 s\)$/);
  assert.equal(f.evidence.timesFromRecords, true);
  const times = flows.map((x) => x.observedAt);
  assert.equal(f.firstSeen, Math.min(...times));
  assert.equal(f.lastSeen, Math.max(...times));
  assert.ok(f.lastSeen - f.firstSeen > 500, 'the capture spans about 1 s');
});

test('101-port scan, boundaries: a threshold of 101 (just reached) raises 101; 102 (just over the scan) raises nothing', async () => {
  const flows = await load(SCAN101_E);
  const at = finalForms(runAll([createPortScanDetector({ ...defaults.portscan, minPorts: 101 })], flows));
  assert.equal(at.length, 1);
  assert.equal(at[0].evidence.distinctPorts, 101);
  assert.equal(runAll([createPortScanDetector({ ...defaults.portscan, minPorts: 102 })], flows).length, 0);
});

test('the same records shuffled (or reversed) give the same first/last seen, counts, ports and sample (lateness: Infinity, as analyze runs)', async () => {
  // Two captures 33 hours apart, mixed in every order: the key of one scan sees records of the
  // other scan's time in between. Each connection's NEW, UPDATE and DESTROY arrive in any order.
  const flows = [...(await load(SCAN101_E)), ...(await load(TOP100))];
  // beacon.periodic judges each check-in as it comes, over its last few: a periodicity found in
  // arrival order need not be found in a shuffled one, so it is left out of this order test.
  const offline = () => createDetectors({ ...policyLike, beacon: { ...defaults.beacon!, enabled: false } }, { lateness: Infinity });
  const summary = (fs: Finding[]) =>
    fs
      .map((f) => ({ entity: f.entity.addr, peers: f.peers, firstSeen: f.firstSeen, lastSeen: f.lastSeen, ev: { ...f.evidence }, summary: f.summary, score: f.score }))
      .sort((a, b) => a.firstSeen - b.firstSeen);
  const inOrder = summary(finalForms(runAll(offline(), flows)));
  assert.equal(inOrder.length, 2);
  assert.deepEqual(
    inOrder.map((f) => [f.entity, f.ev.distinctPorts]),
    [
      ['10.50.0.2', 100],
      ['10.231.1.2', 101],
    ],
  );
  for (const order of [flows.slice().reverse(), ...[1, 2, 3, 42, 2026].map((seed) => shuffled(flows, seed))]) {
    const got = summary(finalForms(runAll(offline(), order)));
    assert.deepEqual(got, inOrder);
    for (const f of got) assert.ok(f.lastSeen - f.firstSeen > 0, 'a span from the records, never 0 or negative from their order');
  }
});

test('a timestamp-less conntrack -L dump never claims a duration: "timing unknown", timesFromRecords false', async () => {
  for (const clock of [() => READ_AT, tickingClock()]) {
    const dump = finalForms(runAll(createDetectors(policyLike), await load(SCAN101_L, clock)));
    assert.equal(dump.length, 1);
    const [f] = dump;
    assert.equal(f.evidence.distinctPorts, 101);
    assert.equal(f.evidence.timesFromRecords, false);
    assert.doesNotMatch(f.summary, /within|\b0 s\b|\bms\b|recorded time/);
    assert.match(f.summary, /^10\.231\.1\.2 probed 101 distinct ports of 10\.231\.1\.1 \(timing unknown: the records carry no time; threshold 15 in 60 s\)$/);
    const ssh = finalForms(runAll(createDetectors(policyLike), await load(IKI, clock)));
    assert.equal(ssh.length, 1);
    assert.equal(ssh[0].evidence.distinctHosts, 20);
    assert.equal(ssh[0].evidence.timesFromRecords, false);
    assert.doesNotMatch(ssh[0].summary, /within/);
  }
});

test('a timed capture mixed into an untimed key loses its duration claim; kept apart it keeps it', async () => {
  const timed = await load(SCAN101_E);
  const dump = await load(SCAN101_L, () => timed[50].observedAt); // one dump line read mid-scan
  const mixed = finalForms(runAll([createPortScanDetector(defaults.portscan)], [...timed.slice(0, 100), dump[0]]));
  assert.equal(mixed.length, 1);
  assert.equal(mixed[0].evidence.timesFromRecords, false);
  assert.doesNotMatch(mixed[0].summary, /within/);
});

test('nmap top-100 capture with the shipped policy thresholds: 100 ports in the final form, 2 ms span', async () => {
  const flows = await load(TOP100);
  const out = runAll(createDetectors(policyLike), flows);
  assert.deepEqual(
    out.map((f) => f.evidence.distinctPorts),
    [15, 30, 60, 100],
  );
  const [f] = finalForms(out);
  assert.match(f.summary, /probed 100 distinct ports of 10\.60\.0\.14 within 2 ms \(threshold 15 in 60 s\)$/);
  assert.equal(f.evidence.flows, 100);
});

test('every conntrack capture in packages/flow/testdata, with thresholds of 2: spans never negative, no duration without record times, the same final forms shuffled (last seen: timed captures)', async () => {
  const dir = fileURLToPath(new URL('../../flow/testdata/conntrack/', import.meta.url));
  const { readdirSync } = await import('node:fs');
  const low = { portscan: { windowMs: 60_000, minPorts: 2, severity: 'high' as const }, hostsweep: { windowMs: 60_000, minHosts: 2, severity: 'high' as const } };
  let checked = 0;
  let shuffledFiles = 0;
  for (const name of readdirSync(dir).sort()) {
    const format = name.endsWith('.xml') ? 'conntrack-xml' : 'conntrack';
    const r = await parseFile(`${dir}${name}`, { format, now: tickingClock() });
    // Untimed records' times are the reader's clock: when an item (a port, a host) has more than
    // ITEM_TIMES_KEPT attempts reordered, last seen may differ; counts and first seen may not.
    const timed = r.records.every((x) => x.untimed !== true && x.event !== 'snapshot');
    const view = (fs: Finding[]) =>
      fs
        .map((f) =>
          [
            f.detector,
            f.entity.addr,
            f.peers.join(','),
            f.firstSeen,
            timed ? f.lastSeen : '',
            f.evidence.flows,
            f.evidence.distinctPorts ?? f.evidence.distinctHosts,
            f.evidence.timesFromRecords,
            f.summary,
          ].join(' '),
        )
        .sort();
    const inOrder = finalForms(runAll(createDetectors(low, { lateness: Infinity }), r.records));
    for (const f of inOrder) {
      assert.ok(f.lastSeen >= f.firstSeen, `${name}: ${f.summary}`);
      const untimed = r.records.some((x) => x.untimed === true || (x.event === 'snapshot' && x.start === undefined && x.end === undefined));
      if (untimed && r.records.every((x) => x.untimed === true || x.event === 'snapshot')) assert.equal(f.evidence.timesFromRecords, false, name);
      if (f.evidence.timesFromRecords === false) assert.doesNotMatch(f.summary, /within|recorded time/, name);
      else assert.match(f.summary, /within|all at one recorded time/, name);
    }
    // A conntrack id reused for the very same tuple (travis: pings to one host) gives records that
    // differ only in time: which of them are one connection depends on their order. Such captures
    // are checked above, not for order independence.
    const news = new Map<string, number>();
    for (const x of r.records) if (x.event === 'new') news.set(connectionIdentity(x), (news.get(connectionIdentity(x)) ?? 0) + 1);
    if ([...news.values()].some((n) => n > 1)) continue;
    for (const seed of [7, 11, 2026]) {
      const mixed = finalForms(runAll(createDetectors(low, { lateness: Infinity }), shuffled(r.records, seed)));
      assert.deepEqual(view(mixed), view(inOrder), `${name}, seed ${seed}`);
    }
    shuffledFiles++;
    checked += inOrder.length;
  }
  assert.ok(checked > 10, `findings checked: ${checked}`);
  assert.ok(shuffledFiles >= 9, `captures checked shuffled: ${shuffledFiles}`);
});

test('the DESTROY events of the unanswered probes, 129 s after the scan, do not report it a second time', async () => {
  const UNTIL_EXPIRY = testdata('captured-conntrack-E-extended-timestamp-nmap-101-ports-until-expiry.log');
  const flows = await load(UNTIL_EXPIRY);
  assert.deepEqual([flows.filter((f) => f.event === 'new').length, flows.filter((f) => f.event === 'destroy').length], [101, 101]);
  const gap = flows[flows.length - 1].observedAt - flows[0].observedAt;
  assert.ok(gap > 120_000 && gap < 200_000, `DESTROY events ${gap} ms after the scan`);
  for (const lateness of [Infinity, undefined]) {
    const out = runAll(createDetectors(policyLike, { lateness }), flows);
    const fin = finalForms(out);
    assert.equal(fin.length, 1, `lateness ${lateness}: ${fin.map((f) => f.summary).join(' | ')}`);
    assert.equal(fin[0].evidence.distinctPorts, 101);
    assert.equal(fin[0].evidence.flows, 101);
    assert.ok(fin[0].lastSeen - fin[0].firstSeen < 2000, 'the scan lasted about 1 s; the expiry is not part of it');
  }
  // Streaming (default lateness): the first DESTROY, past the window's end, closes the window:
  // the final form (101 ports) comes out of observe, before the end of the input.
  const d = createDetectors(policyLike);
  const seen: Finding[] = [];
  for (const f of flows) for (const x of d) seen.push(...x.observe(f));
  assert.deepEqual(
    seen.map((f) => f.evidence.distinctPorts),
    [15, 30, 60, 101],
  );
});
