// bruteforce.auth on real captures (testdata/capture-rules.sh, SOURCES.md): hydra against OpenSSH's
// sshd between network namespaces, and successful key logins between the same two hosts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFile, type FlowRecord } from '@floe/flow';
import { BRUTEFORCE_ID, createBruteForceDetector, DetectError, defaultBruteForceOptions, failureClass } from './index.js';
import { loadCapture as load, runDetector as run, testdata } from './test-captures.js';

const HYDRA = testdata('captured-conntrack-E-extended-timestamp-ssh-hydra.log');
const LOGINS = testdata('captured-conntrack-E-extended-timestamp-ssh-logins.log');
const NMAP_EXPIRY = testdata('captured-conntrack-E-extended-timestamp-nmap-101-ports-until-expiry.log');
const PROXMOX = testdata('crowdsec-hub-proxmox-pvefw.log');

test('hydra against sshd (200 passwords, 4 tasks): one brute-force finding for the attacker, every connection short', async () => {
  const flows = await load(HYDRA);
  const destroys = flows.filter((f) => f.event === 'destroy' && f.dstPort === 22);
  assert.ok(destroys.length >= 20, `hydra made ${destroys.length} connections`);
  const { all, last } = run(createBruteForceDetector(defaultBruteForceOptions()), flows);
  assert.equal(last.length, 1);
  const [f] = last;
  assert.equal(f.detector, BRUTEFORCE_ID);
  assert.equal(f.mitre, 'T1110.001');
  assert.equal(f.severity, 'high');
  assert.deepEqual([f.entity.addr, f.peers], ['10.231.1.2', ['10.231.1.1']]);
  assert.equal(f.evidence.service, 'ssh');
  assert.equal(f.evidence.entityRole, 'source');
  // Every hydra connection got as far as the password prompt: short, not refused.
  assert.equal(f.evidence.failures, destroys.length);
  assert.equal(f.evidence.short, destroys.length);
  assert.equal(f.evidence.refused, 0);
  assert.equal(f.evidence.timesFromRecords, true);
  assert.match(f.summary, /^10\.231\.1\.2 made \d+ failed or short connections to ssh on 10\.231\.1\.1:22 within \d+ s \(threshold 10 in 600 s\)$/);
  // Raised at the 10th, updated at each doubling (20, 40, ...), final with the real count; one id throughout.
  const expected = [10];
  while (expected[expected.length - 1] * 2 <= destroys.length) expected.push(expected[expected.length - 1] * 2);
  if (expected[expected.length - 1] !== destroys.length) expected.push(destroys.length);
  assert.deepEqual(
    all.map((x) => x.evidence.failures),
    expected,
  );
  assert.equal(new Set(all.map((x) => x.id)).size, 1);
});

test('hydra: judged at each DESTROY by its counters (default); with maxDurationMs 30 s at each close, before any DESTROY; a DESTROY-only stream finds the same 43', async () => {
  const flows = await load(HYDRA);
  const firstDestroy = flows.findIndex((f) => f.event === 'destroy');
  const raisedAt = (d: ReturnType<typeof createBruteForceDetector>): number => flows.findIndex((f) => d.observe(f).length > 0);
  const atDestroy = raisedAt(createBruteForceDetector(defaultBruteForceOptions()));
  assert.ok(atDestroy > firstDestroy, `raised at record ${atDestroy}, first DESTROY at ${firstDestroy}: the close alone says nothing about the bytes`);
  const atClose = raisedAt(createBruteForceDetector({ ...defaultBruteForceOptions(), maxDurationMs: 30_000 }));
  assert.ok(atClose > 0 && atClose < firstDestroy, `raised at record ${atClose}, first DESTROY at ${firstDestroy}`);
  const destroys = flows.filter((f) => f.event === 'destroy');
  const { last } = run(createBruteForceDetector(defaultBruteForceOptions()), destroys);
  assert.equal(last.length, 1);
  assert.deepEqual([last[0].entity.addr, last[0].evidence.failures, last[0].evidence.short], ['10.231.1.2', destroys.length, destroys.length]);
  // Judged at the DESTROY, 120 s (TIME_WAIT) after each close: the times are the DESTROYs'.
  assert.ok(last[0].firstSeen >= destroys[0].observedAt);
});

test('four successful key logins between the same hosts: sessions (4.9 kB from the client, above maxClientBytes), none counted', async () => {
  const flows = await load(LOGINS);
  const d = createBruteForceDetector(defaultBruteForceOptions());
  assert.deepEqual(run(d, flows).all, []);
  assert.equal(d.stats().attempts, 0, 'no login counted as a failure');
  // With maxClientBytes above their bytes they count as short: 4 raise with minFailures 4, not with 5.
  const loose = { ...defaultBruteForceOptions(), maxClientBytes: 10_000 };
  assert.equal(run(createBruteForceDetector({ ...loose, minFailures: 5 }), flows).last.length, 0);
  assert.equal(run(createBruteForceDetector({ ...loose, minFailures: 4 }), flows).last.length, 1);
});

test('failure classes on real records: an unanswered SYN is refused, a login is short, NEW/UPDATE never count', async () => {
  const ssh = (await load(NMAP_EXPIRY)).filter((f) => f.dstPort === 22);
  assert.deepEqual(
    ssh.map((f) => [f.event, failureClass(f, 51)]),
    [
      ['new', 0],
      ['destroy', 1],
    ],
  );
  const login = (await load(LOGINS)).filter((f) => f.dstPort === 22);
  const destroy = login.find((f) => f.event === 'destroy') as FlowRecord;
  assert.equal(failureClass(destroy, 51), 2, 'short by packets when the bytes are not limited');
  assert.equal(failureClass(destroy, 51, 4000), 0, 'a key login sends more than 4000 bytes: a session');
  assert.equal(failureClass(destroy, (destroy.packetsOrig as number) - 1), 0, 'more client packets than maxPackets: a session, not counted');
  assert.equal(failureClass({ ...destroy, packetsOrig: undefined }, 51), 0, 'no counters (nf_conntrack_acct=0): not judged');
  assert.ok(login.filter((f) => f.event !== 'destroy').every((f) => failureClass(f, 51) === 0));
});

test('spraying one-shot spoofed sources at sshd does not evict a brute force part-way to the threshold (maxKeys 64)', async () => {
  const flows = await load(HYDRA);
  const template = flows.find((f) => f.event === 'destroy') as FlowRecord;
  const d = createBruteForceDetector(defaultBruteForceOptions(), { limits: { maxKeys: 64 } });
  const mixed: FlowRecord[] = [];
  let i = 0;
  let failures = 0;
  for (const f of flows) {
    mixed.push(f);
    if (f.event === 'destroy') failures++;
    // From the attacker's second failure on (its key is then protected), 300 refused connections
    // from distinct spoofed sources after each real record: 64 keys cannot hold them.
    if (failures < 2) continue;
    for (let k = 0; k < 300; k++, i++)
      mixed.push({ ...template, srcAddr: `198.18.${(i >> 8) & 255}.${i & 255}`, srcPort: 1024 + (i % 60000), unreplied: true, observedAt: f.observedAt });
  }
  const { last } = run(d, mixed);
  assert.deepEqual(
    last.map((f) => f.entity.addr),
    ['10.231.1.2'],
  );
  assert.ok(d.stats().evictedKeys > 50_000, `one-shot keys were evicted (${d.stats().evictedKeys})`);
});

test('kernel LOG lines (Proxmox firewall, CrowdSec hub): every logged attempt to ssh counts, with its verdict', async () => {
  const { records, stats } = await parseFile(PROXMOX, { format: 'kernel-log' });
  assert.equal(stats.rejected, 0);
  // 10.3.95.34 -> 10.3.95.200:22 three times in about 3 hours: not within 10 minutes.
  assert.deepEqual(run(createBruteForceDetector(defaultBruteForceOptions()), records).all, []);
  const { last } = run(createBruteForceDetector({ ...defaultBruteForceOptions(), minFailures: 3, windowMs: 4 * 3_600_000 }), records);
  assert.deepEqual(
    last.map((f) => [f.entity.addr, f.peers[0], f.evidence.logged, f.evidence.verdicts]),
    [['10.3.95.34', '10.3.95.200', 3, { accept: 0, drop: 2, none: 1 }]],
  );
});

test('bad options: FLOE_DETECT_BAD_OPTIONS naming the field', () => {
  for (const [over, field] of [
    [{ minFailures: 1 }, 'bruteforce.minFailures'],
    [{ ports: [] }, 'bruteforce.ports'],
    [{ ports: [22, 70000] }, 'bruteforce.ports[]'],
    [{ severity: 'urgent' }, 'bruteforce.severity'],
  ] as const) {
    assert.throws(
      () => createBruteForceDetector({ ...defaultBruteForceOptions(), ...(over as object) }),
      (e: unknown) => e instanceof DetectError && e.code === 'FLOE_DETECT_BAD_OPTIONS' && e.field === field,
    );
  }
});
