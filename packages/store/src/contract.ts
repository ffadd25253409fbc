/**
 * The Store contract (STYLE.md pattern 6): one suite every adapter passes. Run it from an
 * adapter's test file: `runStoreContract('duckdb :memory:', () => createDuckDbStore({ path: ':memory:' }))`.
 * Each test gets a new, empty store from `makeStore` and stops it afterwards.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { DataGap, Decision, DecisionAudit, Finding, FlowRecord } from '@floe/flow';
import type { DeadLetterRow, FindingTriage, Store, SuppressionRule } from './store.js';
import type { ApiAuditEntry, ApiTokenRecord } from './access.js';

const T0 = Date.parse('2025-03-01T12:00:00Z');

/** A conntrack DESTROY flow; override any field. */
export function flowFixture(over: Partial<FlowRecord> = {}): FlowRecord {
  return {
    schema: 1,
    observedAt: T0,
    node: 'node-a',
    source: 'conntrack',
    event: 'destroy',
    family: 4,
    protocol: 6,
    srcAddr: '10.0.0.5',
    dstAddr: '10.0.1.9',
    srcPort: 40_000,
    dstPort: 443,
    bytesOrig: 600,
    packetsOrig: 6,
    bytesReply: 4000,
    packetsReply: 5,
    state: 'TIME_WAIT',
    assured: true,
    ctId: '3512345678',
    ...over,
  };
}

/** A portscan finding; override any field. */
export function findingFixture(over: Partial<Finding> = {}): Finding {
  return {
    id: 'f-1',
    schema: 1,
    firstSeen: T0,
    lastSeen: T0 + 60_000,
    detector: 'portscan.vertical',
    kind: 'detector',
    severity: 'high',
    score: 0.93,
    entity: { addr: '10.0.0.5', namespace: 'shop', pod: 'cart-7f9c' },
    peers: ['10.0.1.9'],
    summary: '10.0.0.5 probed 120 ports on 10.0.1.9',
    evidence: { flows: 120, distinctPorts: 120, ports: [22, 80, 443], sample: [{ at: T0, dst: '10.0.1.9', dstPort: 22, protocol: 6, state: 'SYN_SENT' }] },
    mitre: 'T1046',
    producedBy: 'detect@0.1.0',
    ...over,
  };
}

/** A one-hour block decision; override any field. */
export function decisionFixture(over: Partial<Decision> = {}): Decision {
  const updatedAt = over.updatedAt ?? T0;
  const durationMs = over.durationMs ?? 3_600_000;
  return {
    schema: 1,
    target: '203.0.113.7/32',
    action: 'block',
    scope: 'all',
    durationMs,
    expiresAt: updatedAt + durationMs,
    origin: 'f-1',
    reason: 'portscan.vertical',
    count: 1,
    dryRun: false,
    createdAt: updatedAt,
    updatedAt,
    ...over,
  };
}

/** A rejected-lines gap on node-a's replay; override any field. */
export function gapFixture(over: Partial<DataGap> = {}): DataGap {
  return { schema: 1, node: 'node-a', source: 'replay', kind: 'rejected', from: T0, to: T0 + 1000, count: 2, reasons: { 'line-too-long': 1, 'control-byte': 1 }, ...over };
}

function auditFor(d: Decision, change: DecisionAudit['change'], at = d.updatedAt): DecisionAudit {
  return { at, target: d.target, change, origin: d.origin, reason: d.reason, decision: d };
}

/**
 * Registers the Store contract suite under `describe(name)`.
 *
 * @param makeStore returns a new, empty, not yet started store.
 */
export function runStoreContract(name: string, makeStore: () => Store | Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    async function started(t: TestContext): Promise<Store> {
      const s = await makeStore();
      await s.start();
      t.after(() => s.stop());
      return s;
    }

    it('start() twice is safe; queries before start reject', async (t) => {
      const idle = await makeStore();
      await assert.rejects(idle.countFlows(), { code: 'FLOE_STORE_NOT_STARTED' });
      const s = await started(t);
      await s.start();
      assert.deepEqual(await s.countFlows(), { flows: 0, bytes: 0 });
    });

    it('inserting the same flows twice (and twice in one batch) keeps one row each', async (t) => {
      const s = await started(t);
      const a = flowFixture();
      const b = flowFixture({ ctId: '99', srcPort: 40_001, bytesOrig: 100, bytesReply: 0 });
      const c = flowFixture({ observedAt: T0 + 1, event: 'new', bytesOrig: undefined, bytesReply: undefined });
      await s.insertFlows([a, b, a]);
      await s.insertFlows([a, b, c]);
      await s.insertFlows([]);
      assert.deepEqual(await s.countFlows(), { flows: 3, bytes: 600 + 4000 + 100 });
    });

    it('readFlows: oldest first in pages with a cursor, since/until filter, every field round-trips', async (t) => {
      const s = await started(t);
      const full = flowFixture({
        observedAt: T0 + 5,
        start: T0 + 1,
        end: T0 + 4,
        srcMeta: { namespace: 'shop', pod: 'web-1', workload: 'web' },
        replyDstAddr: '192.0.2.1',
        replyDstPort: 8443,
        unreplied: true,
        zone: 3,
        mark: 7,
        verdict: 'accept',
        direction: 'egress',
        logPrefix: 'p',
      });
      const flows = [full, ...Array.from({ length: 4 }, (_, i) => flowFixture({ observedAt: T0 + i, srcPort: 50_000 + i }))];
      await s.insertFlows(flows);
      const all: FlowRecord[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const p = await s.readFlows({ limit: 2, cursor });
        all.push(...p.items);
        cursor = p.next;
        pages++;
      } while (cursor !== undefined && pages < 10);
      assert.equal(pages, 3);
      assert.deepEqual(
        all.map((f) => f.observedAt),
        [T0, T0 + 1, T0 + 2, T0 + 3, T0 + 5],
      );
      assert.deepEqual(all[4], full);
      assert.deepEqual(
        (await s.readFlows({ since: T0 + 1, until: T0 + 3 })).items.map((f) => f.srcPort),
        [50_001, 50_002],
      );
      await assert.rejects(s.readFlows({ cursor: 'nope' }), { code: 'FLOE_STORE_BAD_CURSOR' });
      await assert.rejects(s.readFlows({ limit: 0 }), { code: 'FLOE_STORE_BAD_QUERY' });
    });

    it('findings upsert by id: first seen is the minimum, the later lastSeen wins evidence; fields round-trip', async (t) => {
      const s = await started(t);
      const first = findingFixture();
      await s.insertFindings([first]);
      let page = await s.queryFindings({});
      assert.deepEqual(page.items, [first]);

      const later = findingFixture({ firstSeen: T0 - 5000, lastSeen: T0 + 120_000, evidence: { flows: 300 }, severity: 'critical', mitre: undefined });
      delete later.mitre;
      await s.insertFindings([later]);
      const stale = findingFixture({ lastSeen: T0 + 90_000, evidence: { flows: 200 } });
      await s.insertFindings([stale]);
      page = await s.queryFindings({});
      assert.equal(page.total, 1);
      assert.deepEqual(page.items[0], { ...later, firstSeen: T0 - 5000 });
      assert.equal('mitre' in page.items[0], false, 'absent fields stay absent');

      // Repeats of one id inside one batch.
      await s.insertFindings([findingFixture({ id: 'f-2', lastSeen: T0 + 10 }), findingFixture({ id: 'f-2', lastSeen: T0 + 20, evidence: { flows: 2 } })]);
      const f2 = (await s.queryFindings({ entity: '10.0.0.5', limit: 10 })).items.find((f) => f.id === 'f-2');
      assert.equal(f2?.lastSeen, T0 + 20);
      assert.deepEqual(f2?.evidence, { flows: 2 });
    });

    it('finding filters: detector, entity, minSeverity boundary, from inclusive / to exclusive', async (t) => {
      const s = await started(t);
      await s.insertFindings([
        findingFixture({ id: 'a', lastSeen: T0 + 1000, severity: 'medium' }),
        findingFixture({ id: 'b', lastSeen: T0 + 2000, severity: 'high', detector: 'bruteforce.ssh' }),
        findingFixture({ id: 'c', lastSeen: T0 + 3000, severity: 'critical', entity: { addr: '10.0.0.6' } }),
        findingFixture({ id: 'd', lastSeen: T0 + 4000, severity: 'info' }),
      ]);
      const ids = async (q: Parameters<Store['queryFindings']>[0]) => (await s.queryFindings(q)).items.map((f) => f.id);
      assert.deepEqual(await ids({ detector: 'bruteforce.ssh' }), ['b']);
      assert.deepEqual(await ids({ entity: '10.0.0.6' }), ['c']);
      assert.deepEqual(await ids({ minSeverity: 'high' }), ['c', 'b']);
      assert.deepEqual(await ids({ minSeverity: 'info' }), ['d', 'c', 'b', 'a']);
      assert.deepEqual(await ids({ from: T0 + 2000, to: T0 + 4000 }), ['c', 'b'], 'from == lastSeen included, to == lastSeen excluded');
      assert.deepEqual(await ids({ entity: "10.0.0.5' OR '1'='1" }), [], 'a filter value is data, never SQL');
      assert.equal((await s.queryFindings({ from: T0 + 2000 })).total, 3);
    });

    it('Kubernetes filters (issue 9): findings by entity namespace, pod and workload; decisions by those of their origin finding', async (t) => {
      const s = await started(t);
      await s.insertFindings([
        findingFixture({ id: 'k1', entity: { addr: '10.244.1.17', namespace: 'shop', pod: 'web-1', workload: 'web' } }),
        findingFixture({ id: 'k2', entity: { addr: '10.244.1.17', namespace: 'payments', pod: 'batch-x', workload: 'batch' } }),
        findingFixture({ id: 'k3', entity: { addr: '10.0.0.9' } }),
      ]);
      const ids = async (q: Parameters<Store['queryFindings']>[0]) => (await s.queryFindings(q)).items.map((f) => f.id).sort();
      assert.deepEqual(await ids({ namespace: 'shop' }), ['k1']);
      assert.deepEqual(await ids({ workload: 'batch' }), ['k2']);
      assert.deepEqual(await ids({ namespace: 'payments', pod: 'web-1' }), []);
      assert.deepEqual(await ids({ entity: '10.244.1.17' }), ['k1', 'k2'], 'one address, two pods over time');
      await s.upsertDecision(decisionFixture({ target: '10.244.1.17/32', origin: 'k1' }), auditFor(decisionFixture(), 'create'));
      await s.upsertDecision(decisionFixture({ target: '10.0.0.9/32', origin: 'k3' }), auditFor(decisionFixture(), 'create'));
      await s.upsertDecision(decisionFixture({ target: '192.0.2.9/32', origin: 'api:alice' }), auditFor(decisionFixture(), 'create'));
      const dts = async (q: Parameters<Store['queryDecisions']>[0]) => (await s.queryDecisions(q)).items.map((d) => d.target).sort();
      assert.deepEqual(await dts({ namespace: 'shop' }), ['10.244.1.17/32']);
      assert.deepEqual(await dts({ workload: 'web', pod: 'web-1' }), ['10.244.1.17/32']);
      assert.deepEqual(await dts({ namespace: 'payments' }), []);
      assert.deepEqual(await dts({ namespace: "shop' OR '1'='1" }), [], 'a filter value is data, never SQL');
    });

    it('finding pages: newest first, ties broken by id, no row twice or lost, total on every page', async (t) => {
      const s = await started(t);
      const all: Finding[] = [];
      // 25 findings, lastSeen in groups of 3 equal values, so page edges fall inside ties.
      for (let i = 0; i < 25; i++) all.push(findingFixture({ id: `f-${String(i).padStart(2, '0')}`, lastSeen: T0 + Math.floor(i / 3) * 1000 }));
      await s.insertFindings(all);
      const expected = [...all].sort((x, y) => y.lastSeen - x.lastSeen || (x.id < y.id ? 1 : -1)).map((f) => f.id);
      const seen: string[] = [];
      const sizes: number[] = [];
      let cursor: string | undefined;
      do {
        const page = await s.queryFindings({ limit: 10, cursor });
        assert.equal(page.total, 25);
        sizes.push(page.items.length);
        seen.push(...page.items.map((f) => f.id));
        cursor = page.next;
      } while (cursor);
      assert.deepEqual(sizes, [10, 10, 5]);
      assert.deepEqual(seen, expected);
      // Limit equal to the row count: one page, no cursor. One less: a cursor to one more row.
      assert.equal((await s.queryFindings({ limit: 25 })).next, undefined);
      const p24 = await s.queryFindings({ limit: 24 });
      assert.ok(p24.next);
      const rest = await s.queryFindings({ limit: 24, cursor: p24.next });
      assert.deepEqual(
        rest.items.map((f) => f.id),
        [expected[24]],
      );
      assert.equal(rest.next, undefined);
    });

    it('rejects limit 0 and 1001, unknown severity and foreign or garbled cursors', async (t) => {
      const s = await started(t);
      await assert.rejects(s.queryFindings({ limit: 0 }), { code: 'FLOE_STORE_BAD_QUERY' });
      await assert.rejects(s.queryFindings({ limit: 1001 }), { code: 'FLOE_STORE_BAD_QUERY' });
      assert.equal((await s.queryFindings({ limit: 1000 })).items.length, 0);
      assert.equal((await s.queryFindings({ limit: 1 })).items.length, 0);
      await assert.rejects(s.queryFindings({ minSeverity: 'urgent' as never }), { code: 'FLOE_STORE_BAD_QUERY' });
      await assert.rejects(s.queryFindings({ cursor: 'not-a-cursor' }), { code: 'FLOE_STORE_BAD_CURSOR' });
      for (let i = 0; i < 3; i++) await s.upsertDecision(decisionFixture({ target: `192.0.2.${i}/32` }), auditFor(decisionFixture(), 'create'));
      const dpage = await s.queryDecisions({ limit: 1 });
      assert.ok(dpage.next);
      await assert.rejects(s.queryFindings({ cursor: dpage.next }), { code: 'FLOE_STORE_BAD_CURSOR' });
    });

    // Issue 6: a cursor holding an out-of-range number reached SQL and answered 500.
    it('rejects cursors with times out of range or not integers, bad keys, or not JSON objects (never reaching SQL)', async (t) => {
      const s = await started(t);
      const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const bad = [
        enc({ t: 'f', s: 1e300, k: 'x' }),
        enc({ t: 'f', s: -1e300, k: 'x' }),
        enc({ t: 'f', s: 2 ** 63, k: 'x' }),
        enc({ t: 'f', s: 8.64e15 + 1, k: 'x' }),
        enc({ t: 'f', s: 1.5, k: 'x' }),
        enc({ t: 'f', s: '1', k: 'x' }),
        enc({ t: 'f', s: null, k: 'x' }),
        enc({ t: 'f', s: 1, k: '' }),
        enc({ t: 'f', s: 1, k: 'a\u0000b' }),
        enc({ t: 'f', s: 1, k: 'x'.repeat(257) }),
        enc({ t: 'f', s: 1, k: 5 }),
        enc([1, 2]),
        enc(null),
        enc('f'),
        enc(Number.POSITIVE_INFINITY),
        Buffer.from('{"t":"f","s":1e999,"k":"x"}').toString('base64url'),
        'a'.repeat(2000),
        '%%%',
        '',
      ];
      for (const cursor of bad) await assert.rejects(s.queryFindings({ cursor }), { code: 'FLOE_STORE_BAD_CURSOR' }, cursor);
      // the bounds themselves are fine
      assert.equal((await s.queryFindings({ cursor: enc({ t: 'f', s: 8.64e15, k: 'x' }) })).items.length, 0);
      assert.equal((await s.queryFindings({ cursor: enc({ t: 'f', s: -8.64e15, k: 'x' }) })).items.length, 0);
    });

    it('normalises address filters as stored values are: ?entity= like ?target= (RFC 5952, IPv4-mapped to IPv4)', async (t) => {
      const s = await started(t);
      await s.insertFindings([findingFixture({ id: 'v6', entity: { addr: '2001:db8::7' } }), findingFixture({ id: 'v4', entity: { addr: '198.51.100.7' } })]);
      for (const entity of ['2001:DB8::7', '2001:db8:0:0:0:0:0:7', '2001:db8::0007']) {
        assert.deepEqual(
          (await s.queryFindings({ entity })).items.map((f) => f.id),
          ['v6'],
          entity,
        );
      }
      assert.deepEqual(
        (await s.queryFindings({ entity: '::ffff:198.51.100.7' })).items.map((f) => f.id),
        ['v4'],
      );
      const d = decisionFixture({ target: '198.51.100.0/24' });
      await s.upsertDecision(d, auditFor(d, 'create'));
      const d6 = decisionFixture({ target: '2001:db8::/64' });
      await s.upsertDecision(d6, auditFor(d6, 'create'));
      assert.deepEqual(
        (await s.queryDecisions({ target: '::ffff:198.51.100.0/120' })).items.map((x) => x.target),
        ['198.51.100.0/24'],
      );
      assert.deepEqual(
        (await s.queryDecisions({ target: '2001:DB8:0::/64' })).items.map((x) => x.target),
        ['2001:db8::/64'],
      );
    });

    it('writeDecisions stores several outcomes in order: the later decision of a target wins, refusals are audited alone', async (t) => {
      const s = await started(t);
      const a1 = decisionFixture();
      const b = decisionFixture({ target: '198.51.100.7/32' });
      const a2 = decisionFixture({ updatedAt: T0 + 60_000, durationMs: 4 * 3_600_000, count: 2, createdAt: T0 });
      const refusal: DecisionAudit = { at: T0 + 1, target: '10.0.0.1/32', change: 'refuse', origin: 'k1', reason: 'never-block list' };
      await s.writeDecisions([]);
      await s.writeDecisions([
        { decision: a1, audit: auditFor(a1, 'create') },
        { audit: refusal },
        { decision: b, audit: auditFor(b, 'create') },
        { decision: a2, audit: auditFor(a2, 'extend') },
      ]);
      assert.deepEqual(await s.getDecision(a1.target), a2);
      assert.deepEqual(await s.getDecision(b.target), b);
      assert.equal(await s.getDecision(refusal.target), undefined);
      assert.equal((await s.queryDecisions({})).total, 2);
      assert.deepEqual(
        (await s.queryAudit({ target: a1.target })).map((x) => x.change),
        ['extend', 'create'],
      );
      assert.deepEqual(
        (await s.queryAudit({ target: refusal.target })).map((x) => [x.change, x.reason]),
        [['refuse', 'never-block list']],
      );
    });

    it('decisions upsert by target, audited; getDecision returns the latest', async (t) => {
      const s = await started(t);
      const d1 = decisionFixture();
      await s.upsertDecision(d1, auditFor(d1, 'create'));
      const d2 = decisionFixture({ updatedAt: T0 + 60_000, durationMs: 4 * 3_600_000, count: 2, createdAt: T0, scope: ['node-a', 'node-b'] });
      await s.upsertDecision(d2, auditFor(d2, 'extend'));
      assert.deepEqual(await s.getDecision(d1.target), d2);
      assert.equal(await s.getDecision('198.51.100.1/32'), undefined);
      const page = await s.queryDecisions({});
      assert.equal(page.total, 1);
      assert.deepEqual(page.items, [d2]);
      const audit = await s.queryAudit({ target: d1.target });
      assert.deepEqual(
        audit.map((a) => a.change),
        ['extend', 'create'],
      );
      assert.deepEqual(audit[0].decision, d2);
    });

    it('decision filters: active boundary (expiresAt == activeAt is inactive), expired, origin, target, updatedAt range', async (t) => {
      const s = await started(t);
      const ds = [
        decisionFixture({ target: '192.0.2.1/32', updatedAt: T0, durationMs: 1000 }), // expires T0+1000
        decisionFixture({ target: '192.0.2.2/32', updatedAt: T0 + 10, durationMs: 5000, origin: 'api:alice' }),
        decisionFixture({ target: '2001:db8::/64', updatedAt: T0 + 20, durationMs: 10_000 }),
      ];
      for (const d of ds) await s.upsertDecision(d, auditFor(d, 'create'));
      const targets = async (q: Parameters<Store['queryDecisions']>[0]) => (await s.queryDecisions(q)).items.map((d) => d.target);
      assert.deepEqual(await targets({ activeAt: T0 + 1000 }), ['2001:db8::/64', '192.0.2.2/32']);
      assert.deepEqual(await targets({ activeAt: T0 + 999 }), ['2001:db8::/64', '192.0.2.2/32', '192.0.2.1/32']);
      assert.deepEqual(await targets({ expiredAt: T0 + 1000 }), ['192.0.2.1/32']);
      assert.deepEqual(await targets({ origin: 'api:alice' }), ['192.0.2.2/32']);
      assert.deepEqual(await targets({ target: '2001:db8::/64' }), ['2001:db8::/64']);
      assert.deepEqual(await targets({ from: T0 + 10, to: T0 + 20 }), ['192.0.2.2/32']);
    });

    it('decision pages walk every row once, newest updatedAt first', async (t) => {
      const s = await started(t);
      const want: string[] = [];
      for (let i = 0; i < 7; i++) {
        const d = decisionFixture({ target: `198.51.100.${i}/32`, updatedAt: T0 + Math.floor(i / 2) });
        await s.upsertDecision(d, auditFor(d, 'create'));
      }
      for (let i = 6; i >= 0; i--) want.push(`198.51.100.${i}/32`);
      const got: string[] = [];
      let cursor: string | undefined;
      do {
        const p = await s.queryDecisions({ limit: 3, cursor });
        assert.equal(p.total, 7);
        got.push(...p.items.map((d) => d.target));
        cursor = p.next;
      } while (cursor);
      assert.deepEqual(got, want);
    });

    it('deleteDecision: true and audited when it existed, false (no audit row) when none', async (t) => {
      const s = await started(t);
      const d = decisionFixture();
      await s.upsertDecision(d, auditFor(d, 'create'));
      const del: DecisionAudit = { at: T0 + 5, target: d.target, change: 'delete', origin: 'api:bob', reason: 'false positive' };
      assert.equal(await s.deleteDecision(d.target, del), true);
      assert.equal(await s.getDecision(d.target), undefined);
      assert.equal(await s.deleteDecision(d.target, del), false);
      const audit = await s.queryAudit({ target: d.target });
      assert.deepEqual(audit, [del, auditFor(d, 'create')]);
    });

    it('audit is append-only, latest first, filtered by target, limited', async (t) => {
      const s = await started(t);
      const rows: DecisionAudit[] = [];
      for (let i = 0; i < 5; i++) {
        const a: DecisionAudit = { at: T0 + (i % 2), target: i % 2 ? '192.0.2.9/32' : '10.0.0.1/32', change: 'refuse', origin: `f-${i}`, reason: 'never-block' };
        rows.push(a);
        await s.appendAudit(a);
      }
      assert.deepEqual(await s.queryAudit({}), [...rows].reverse());
      assert.deepEqual(await s.queryAudit({ limit: 2 }), [rows[4], rows[3]]);
      assert.deepEqual(await s.queryAudit({ target: '192.0.2.9/32' }), [rows[3], rows[1]]);
      await assert.rejects(s.queryAudit({ limit: 0 }), { code: 'FLOE_STORE_BAD_QUERY' });
    });

    it('dead letters are appended as given and read latest first, filtered by reason', async (t) => {
      const s = await started(t);
      const a: DeadLetterRow = {
        schema: 1,
        reason: 'undecodable',
        detail: 'Unexpected token \'o\', "not json" is not valid JSON',
        topic: 'floe.flows.v1',
        partition: 2,
        offset: '9007199254740993',
        key: '10.0.0.5',
        payload: Buffer.from('not json\u0000\xff').toString('base64'),
        group: 'processor',
        step: 'decode',
        at: T0,
      };
      const b: DeadLetterRow = { ...a, reason: 'schema-version', detail: 'schema 99', record: 3, offset: '7', at: T0 + 1 };
      await s.insertDeadLetters([a]);
      await s.insertDeadLetters([b, { ...b, at: T0 + 2 }]);
      await s.insertDeadLetters([]);
      assert.deepEqual(await s.queryDeadLetters({ reason: 'undecodable' }), [a]);
      assert.deepEqual(await s.queryDeadLetters({ limit: 2 }), [{ ...b, at: T0 + 2 }, b]);
      assert.equal((await s.queryDeadLetters({})).length, 3);
    });

    it('data gaps: stored once however often they are delivered, fields round-trip, newest from first', async (t) => {
      const s = await started(t);
      const rejected = gapFixture();
      const silent = gapFixture({ kind: 'silent', source: 'conntrack', from: T0 + 5000, to: T0 + 65_000, count: 0, reasons: undefined });
      delete silent.reasons;
      const enobufs = gapFixture({ kind: 'enobufs', source: 'conntrack', node: 'node-b', from: T0 + 2000, to: T0 + 2500, count: 3, reasons: undefined });
      delete enobufs.reasons;
      await s.insertGaps([rejected, silent, rejected]);
      await s.insertGaps([rejected, silent, enobufs]);
      await s.insertGaps([{ ...rejected, reasons: { 'control-byte': 1, 'line-too-long': 1 } }]); // same reasons, other key order
      await s.insertGaps([]);
      const page = await s.queryGaps({});
      assert.equal(page.total, 3);
      assert.deepEqual(page.items, [silent, enobufs, rejected]);
      assert.equal('reasons' in page.items[0], false, 'absent reasons stay absent');
      // another count is another gap
      await s.insertGaps([{ ...rejected, count: 3 }]);
      assert.equal((await s.queryGaps({})).total, 4);
    });

    it('gap filters: overlap of [from, to) (an instant at from included, at to excluded), node, source, kind; pages; bad queries', async (t) => {
      const s = await started(t);
      const a = gapFixture({ from: T0, to: T0 }); // one instant
      const b = gapFixture({ kind: 'silent', source: 'conntrack', from: T0 + 100, to: T0 + 10_000, count: 0, reasons: undefined });
      delete b.reasons;
      const c = gapFixture({ kind: 'enobufs', source: 'conntrack', node: 'node-b', from: T0 + 20_000, to: T0 + 20_000, count: 1, reasons: undefined });
      delete c.reasons;
      await s.insertGaps([a, b, c]);
      const kinds = async (q: Parameters<Store['queryGaps']>[0]) => (await s.queryGaps(q)).items.map((g) => g.kind);
      assert.deepEqual(await kinds({ from: T0, to: T0 + 1 }), ['rejected'], 'an instant at from is included');
      assert.deepEqual(await kinds({ from: T0 + 1, to: T0 + 20_000 }), ['silent'], 'a gap ending before from, or starting at to, is out');
      assert.deepEqual(await kinds({ from: T0 + 5000, to: T0 + 5001 }), ['silent'], 'a gap spanning the whole period is in');
      assert.deepEqual(await kinds({ node: 'node-b' }), ['enobufs']);
      assert.deepEqual(await kinds({ source: 'conntrack' }), ['enobufs', 'silent']);
      assert.deepEqual(await kinds({ kind: 'rejected' }), ['rejected']);
      assert.deepEqual(await kinds({ node: "node-a' OR '1'='1" }), [], 'a filter value is data, never SQL');
      const first = await s.queryGaps({ limit: 2 });
      assert.deepEqual([first.items.length, first.total], [2, 3]);
      assert.ok(first.next);
      const rest = await s.queryGaps({ limit: 2, cursor: first.next });
      assert.deepEqual(rest.items, [a]);
      assert.equal(rest.next, undefined);
      await assert.rejects(s.queryGaps({ limit: 0 }), { code: 'FLOE_STORE_BAD_QUERY' });
      await assert.rejects(s.queryGaps({ limit: 1001 }), { code: 'FLOE_STORE_BAD_QUERY' });
      await assert.rejects(s.queryGaps({ kind: 'lost' as never }), { code: 'FLOE_STORE_BAD_QUERY' });
      await assert.rejects(s.queryGaps({ from: Number.NaN }), { code: 'FLOE_STORE_BAD_QUERY' });
      await assert.rejects(s.gapSummary({ kind: 'lost' as never }), { code: 'FLOE_STORE_BAD_QUERY' });
      await s.insertFindings([findingFixture({ id: 'x1' }), findingFixture({ id: 'x2' })]);
      const fnext = (await s.queryFindings({ limit: 1 })).next;
      await assert.rejects(s.queryGaps({ cursor: fnext }), { code: 'FLOE_STORE_BAD_CURSOR' }, "another query's cursor");
      await assert.rejects(s.queryGaps({ cursor: 'garbage!' }), { code: 'FLOE_STORE_BAD_CURSOR' });
    });

    it('gap summary: per node, source and kind; ENOBUFS warnings, rejected lines, silent time clipped to the period', async (t) => {
      const s = await started(t);
      const silent = gapFixture({ kind: 'silent', source: 'conntrack', from: T0, to: T0 + 60_000, count: 0, reasons: undefined });
      delete silent.reasons;
      await s.insertGaps([
        gapFixture({ from: T0 + 1000, to: T0 + 1000, count: 2 }),
        gapFixture({ from: T0 + 2000, to: T0 + 3000, count: 5 }),
        gapFixture({ kind: 'enobufs', source: 'conntrack', node: 'node-b', from: T0 + 10_000, to: T0 + 11_000, count: 4, reasons: undefined }),
        silent,
      ]);
      await s.insertGaps([silent]); // redelivered: counted once
      const all = await s.gapSummary({});
      assert.deepEqual(all, {
        gaps: 4,
        enobufsWarnings: 4,
        rejectedLines: 7,
        silentMs: 60_000,
        groups: [
          { node: 'node-a', source: 'conntrack', kind: 'silent', gaps: 1, count: 0, ms: 60_000 },
          { node: 'node-a', source: 'replay', kind: 'rejected', gaps: 2, count: 7, ms: 1000 },
          { node: 'node-b', source: 'conntrack', kind: 'enobufs', gaps: 1, count: 4, ms: 1000 },
        ],
      });
      const part = await s.gapSummary({ from: T0 + 30_000, to: T0 + 40_000 });
      assert.deepEqual(part, {
        gaps: 1,
        enobufsWarnings: 0,
        rejectedLines: 0,
        silentMs: 10_000,
        groups: [{ node: 'node-a', source: 'conntrack', kind: 'silent', gaps: 1, count: 0, ms: 10_000 }],
      });
      assert.deepEqual(await s.gapSummary({ node: 'node-c' }), { gaps: 0, enobufsWarnings: 0, rejectedLines: 0, silentMs: 0, groups: [] });
      assert.equal((await s.gapSummary({ kind: 'rejected', from: T0 + 1500 })).rejectedLines, 5);
    });
    it('triage (issue 8): history kept oldest first, current state on findings, ?state= filter (never triaged = open), unknown finding refused', async (t) => {
      const s = await started(t);
      await s.insertFindings([findingFixture({ id: 'a', lastSeen: T0 + 1 }), findingFixture({ id: 'b', lastSeen: T0 + 2 }), findingFixture({ id: 'c', lastSeen: T0 + 3 })]);
      const ack: FindingTriage = { findingId: 'a', state: 'acknowledged', by: 'alice', at: T0 + 10 };
      const fp: FindingTriage = { findingId: 'a', state: 'false_positive', reason: "backup job's nightly sweep", by: 'bob', at: T0 + 20 };
      const res: FindingTriage = { findingId: 'b', state: 'resolved', reason: 'host reimaged', by: 'alice', at: T0 + 30 };
      assert.equal(await s.triageFinding(ack), true);
      assert.equal(await s.triageFinding(fp), true);
      assert.equal(await s.triageFinding(res), true);
      assert.equal(await s.triageFinding({ findingId: 'nope', state: 'resolved', by: 'eve', at: T0 }), false);
      assert.deepEqual(await s.triageHistory('a'), [ack, fp]);
      assert.deepEqual(await s.triageHistory('c'), [], 'a finding never triaged');
      assert.equal(await s.triageHistory('nope'), undefined, 'no such finding');
      const page = await s.queryFindings({});
      assert.deepEqual(
        page.items.map((f) => [f.id, f.triage?.state ?? 'open']),
        [
          ['c', 'open'],
          ['b', 'resolved'],
          ['a', 'false_positive'],
        ],
      );
      assert.deepEqual(page.items[2].triage, { state: 'false_positive', reason: "backup job's nightly sweep", by: 'bob', at: T0 + 20 });
      assert.equal('triage' in page.items[0], false, 'never triaged: no triage field');
      const ids = async (q: Parameters<Store['queryFindings']>[0]) => (await s.queryFindings(q)).items.map((f) => f.id);
      assert.deepEqual(await ids({ state: 'open' }), ['c']);
      assert.deepEqual(await ids({ state: 'false_positive' }), ['a']);
      assert.deepEqual(await ids({ state: 'acknowledged' }), [], 'a superseded state does not match');
      assert.equal((await s.queryFindings({ state: 'resolved' })).total, 1);
      // reopened: open again, and counted as open
      await s.triageFinding({ findingId: 'b', state: 'open', reason: 'came back', by: 'carol', at: T0 + 40 });
      assert.deepEqual(await ids({ state: 'open' }), ['c', 'b']);
      await assert.rejects(s.queryFindings({ state: 'closed' as never }), { code: 'FLOE_STORE_BAD_QUERY' });
      // a re-raised finding (upsert) keeps its triage
      await s.insertFindings([findingFixture({ id: 'a', lastSeen: T0 + 50, evidence: { flows: 999 } })]);
      const a = (await s.queryFindings({ state: 'false_positive' })).items[0];
      assert.deepEqual([a.id, a.evidence.flows, a.triage?.by], ['a', 999, 'bob']);
    });

    it('suppression rules (issue 8): put, list newest first with counts of marked findings and the last match, expiry filter, delete', async (t) => {
      const s = await started(t);
      const r1: SuppressionRule = {
        id: 'sup-1',
        detector: 'portscan.vertical',
        entity: '10.0.0.0/24',
        expiresAt: T0 + 3_600_000,
        reason: 'vuln scanner',
        createdBy: 'alice',
        createdAt: T0,
      };
      const r2: SuppressionRule = { id: 'sup-2', namespace: 'shop', port: 53, expiresAt: T0 + 1000, reason: 'dns noise', createdBy: 'bob', createdAt: T0 + 1 };
      await s.putSuppression(r1);
      await s.putSuppression(r2);
      assert.deepEqual(await s.listSuppressions(), [
        { ...r2, suppressed: 0 },
        { ...r1, suppressed: 0 },
      ]);
      await s.insertFindings([findingFixture({ id: 'x' }), findingFixture({ id: 'y' })]);
      await s.markSuppressed([
        { findingId: 'x', ruleId: 'sup-1', at: T0 + 100 },
        { findingId: 'y', ruleId: 'sup-1', at: T0 + 200 },
      ]);
      await s.markSuppressed([{ findingId: 'x', ruleId: 'sup-1', at: T0 + 300 }]); // re-raised: still one finding
      await s.markSuppressed([]);
      const list = await s.listSuppressions();
      assert.deepEqual(list[1], { ...r1, suppressed: 2, lastMatchAt: T0 + 300 });
      assert.deepEqual(
        (await s.listSuppressions({ activeAt: T0 + 1000 })).map((r) => r.id),
        ['sup-1'],
        'expiresAt == activeAt is expired',
      );
      const page = await s.queryFindings({});
      assert.deepEqual(
        page.items.map((f) => [f.id, f.suppression]),
        [
          ['y', { ruleId: 'sup-1', at: T0 + 200 }],
          ['x', { ruleId: 'sup-1', at: T0 + 300 }],
        ],
      );
      assert.deepEqual((await s.queryFindings({ suppressed: false })).items, []);
      await s.insertFindings([findingFixture({ id: 'z' })]);
      assert.deepEqual(
        (await s.queryFindings({ suppressed: false })).items.map((f) => f.id),
        ['z'],
      );
      assert.equal((await s.queryFindings({ suppressed: true })).total, 2);
      // replace, then delete
      await s.putSuppression({ ...r2, reason: 'dns noise (kube-dns)' });
      assert.equal((await s.listSuppressions()).find((r) => r.id === 'sup-2')?.reason, 'dns noise (kube-dns)');
      assert.equal(await s.deleteSuppression('sup-2'), true);
      assert.equal(await s.deleteSuppression('sup-2'), false);
      assert.deepEqual(
        (await s.listSuppressions()).map((r) => r.id),
        ['sup-1'],
      );
      // re-created after a delete
      await s.putSuppression(r2);
      assert.equal((await s.listSuppressions()).length, 2);
    });

    it('run-time never-block list (issue 8): put, replace, list oldest first, delete', async (t) => {
      const s = await started(t);
      const a = { cidr: '10.0.0.7/32', reason: 'backup server', createdBy: 'alice', createdAt: T0 };
      const b = { cidr: '2001:db8::/64', reason: 'office', createdBy: 'bob', createdAt: T0 + 1 };
      await s.putNeverBlock(b);
      await s.putNeverBlock(a);
      assert.deepEqual(await s.listNeverBlock(), [a, b]);
      await s.putNeverBlock({ ...a, reason: 'backup server (new)' });
      assert.deepEqual(await s.listNeverBlock(), [{ ...a, reason: 'backup server (new)' }, b]);
      assert.equal(await s.deleteNeverBlock('10.0.0.7/32'), true);
      assert.equal(await s.deleteNeverBlock('10.0.0.7/32'), false);
      assert.deepEqual(await s.listNeverBlock(), [b]);
      await s.putNeverBlock(a);
      assert.deepEqual(await s.listNeverBlock(), [a, b]);
    });

    it('report aggregates: flows per hour, direction and group in scope, findings by severity, blocks and durations; [from, to) boundaries', async (t) => {
      const s = await started(t);
      const H = 3_600_000;
      const h0 = Math.floor(T0 / H) * H;
      const shop = { namespace: 'shop', zone: 'pods' };
      const pay = { namespace: 'pay', zone: 'pods' };
      await s.insertFlows([
        flowFixture({ observedAt: h0, ctId: '1', direction: 'internal', srcMeta: shop, dstMeta: pay }),
        flowFixture({ observedAt: h0 + 10, ctId: '2', direction: 'internal', srcMeta: shop, dstMeta: pay }),
        flowFixture({
          observedAt: h0 + H + 5,
          ctId: '3',
          srcAddr: '198.51.100.7',
          dstPort: 22,
          bytesOrig: 60,
          bytesReply: undefined,
          direction: 'ingress',
          dstMeta: { zone: 'pods' },
        }),
        flowFixture({ observedAt: h0 + H + 6, ctId: '4', srcAddr: '198.51.100.7', dstPort: undefined, protocol: 1, srcPort: undefined, bytesOrig: 0, bytesReply: 0 }),
        flowFixture({ observedAt: h0 + 2 * H, ctId: '5' }), // at `to`: out
        flowFixture({ observedAt: h0 - 1, ctId: '6' }), // before `from`: out
      ]);
      await s.insertFindings([
        findingFixture({ id: 'a', firstSeen: h0 - 10, lastSeen: h0 }), // ends at from: in
        findingFixture({ id: 'b', severity: 'medium', detector: 'policy.ingress-port', kind: 'policy', firstSeen: h0 + H, lastSeen: h0 + H, entity: { addr: '198.51.100.7' } }),
        findingFixture({ id: 'c', firstSeen: h0 + 2 * H, lastSeen: h0 + 2 * H + 1 }), // starts at to: out
      ]);
      // handling: a acknowledged then resolved (the latest state counts), b suppressed by a rule, c (out of the period) a false positive
      await s.triageFinding({ findingId: 'a', state: 'acknowledged', by: 'alice', at: h0 + 1 });
      await s.triageFinding({ findingId: 'a', state: 'resolved', by: 'bob', at: h0 + 2 });
      await s.triageFinding({ findingId: 'c', state: 'false_positive', reason: 'lab', by: 'bob', at: h0 + 2 * H + 5 });
      await s.markSuppressed([{ findingId: 'b', ruleId: 'sup-1', at: h0 + H }]);
      {
        const d = decisionFixture({ target: '198.51.100.7/32', updatedAt: h0 + H + 100, durationMs: 600_000, origin: 'b' });
        await s.upsertDecision(d, auditFor(d, 'create'));
      }
      {
        const d = decisionFixture({ target: '203.0.113.9/32', updatedAt: h0 + 5, durationMs: 3_600_000, dryRun: true });
        await s.upsertDecision(d, auditFor(d, 'create'));
      }
      {
        const d = decisionFixture({ target: '203.0.113.10/32', updatedAt: h0 + 2 * H });
        await s.upsertDecision(d, auditFor(d, 'create'));
      } // out
      const dead: DeadLetterRow = {
        schema: 1,
        reason: 'invalid',
        detail: 'bad',
        topic: 'floe.flows.v1',
        partition: 0,
        offset: '1',
        key: 'k',
        payload: '',
        group: 'processor',
        step: 'decode',
        at: h0 + H,
      };
      await s.insertDeadLetters([dead, { ...dead, at: h0 + 2 * H }]); // the second at `to`: out
      const all = await s.reportAggregates({ from: h0, to: h0 + 2 * H });
      assert.equal(all.deadLetters, 1);
      assert.equal(all.flows.flows, 4);
      assert.equal(all.flows.bytes, 2 * 4600 + 60);
      assert.equal(all.flows.first, h0);
      assert.equal(all.flows.last, h0 + H + 6);
      assert.deepEqual(all.flows.hourly, [
        { hour: h0, flows: 2 },
        { hour: h0 + H, flows: 2 },
      ]);
      assert.deepEqual(all.flows.byDirection, { internal: 2, ingress: 1, unknown: 1 });
      assert.equal(all.flows.groupsTotal, 3);
      assert.deepEqual(all.flows.groups, [
        {
          srcAddr: '10.0.0.5',
          dstAddr: '10.0.1.9',
          protocol: 6,
          dstPort: 443,
          direction: 'internal',
          srcNamespace: 'shop',
          dstNamespace: 'pay',
          srcZone: 'pods',
          dstZone: 'pods',
          flows: 2,
          bytes: 9200,
        },
        { srcAddr: '198.51.100.7', dstAddr: '10.0.1.9', protocol: 1, flows: 1, bytes: 0 },
        { srcAddr: '198.51.100.7', dstAddr: '10.0.1.9', protocol: 6, dstPort: 22, direction: 'ingress', dstZone: 'pods', flows: 1, bytes: 60 },
      ]);
      assert.deepEqual(all.findings, {
        total: 2,
        counts: [
          { severity: 'high', detector: 'portscan.vertical', findings: 1, blocked: 0 },
          { severity: 'medium', detector: 'policy.ingress-port', findings: 1, blocked: 1 },
        ],
        triage: { open: 1, acknowledged: 0, resolved: 1, falsePositive: 0, suppressed: 1 },
      });
      assert.deepEqual(all.decisions, {
        total: 2,
        dryRun: 1,
        totalDurationMs: 4_200_000,
        minDurationMs: 600_000,
        maxDurationMs: 3_600_000,
        hourly: [
          { hour: h0, blocks: 1 },
          { hour: h0 + H, blocks: 1 },
        ],
      });
      const ns = await s.reportAggregates({ from: h0, to: h0 + 2 * H, namespaces: ['pay'], groupLimit: 1 });
      assert.equal(ns.flows.flows, 2);
      assert.equal(ns.flows.groupsTotal, 1);
      assert.deepEqual(ns.findings, { total: 0, counts: [], triage: { open: 0, acknowledged: 0, resolved: 0, falsePositive: 0, suppressed: 0 } }); // no finding names namespace pay
      const zone = await s.reportAggregates({ from: h0, to: h0 + 2 * H, zones: ['pods'], groupLimit: 1 });
      assert.equal(zone.flows.flows, 3);
      assert.equal(zone.flows.groupsTotal, 2);
      assert.equal(zone.flows.groups.length, 1, 'groupLimit cuts the groups, not the counts');
      const empty = await s.reportAggregates({ from: h0 + 3 * H, to: h0 + 4 * H });
      assert.equal(empty.flows.flows, 0);
      assert.equal(empty.flows.first, undefined);
      assert.deepEqual(empty.flows.hourly, []);
      assert.deepEqual(empty.decisions, { total: 0, dryRun: 0, totalDurationMs: 0, minDurationMs: 0, maxDurationMs: 0, hourly: [] });
      await assert.rejects(s.reportAggregates({ from: h0, to: h0 }), { code: 'FLOE_STORE_BAD_QUERY' });
      await assert.rejects(s.reportAggregates({ from: Number.NaN, to: h0 }), { code: 'FLOE_STORE_BAD_QUERY' });
      await assert.rejects(s.reportAggregates({ from: h0, to: h0 + 1, groupLimit: 0 }), { code: 'FLOE_STORE_BAD_QUERY' });
    });

    // Issue 8: API tokens (only a hash stored) and the API audit log.
    it('api tokens: stored by id with their hash, listed newest first, revoked once, id unique', async (t) => {
      const s = await started(t);
      const a = apiTokenFixture({ id: 'aaaa1111', name: 'grafana', role: 'viewer', createdAt: T0 });
      const b = apiTokenFixture({ id: 'bbbb2222', name: 'soc', role: 'admin', createdAt: T0 + 1000, expiresAt: T0 + 86_400_000 });
      await s.insertApiToken(a);
      await s.insertApiToken(b);
      await assert.rejects(s.insertApiToken(a), { code: 'FLOE_STORE_BAD_QUERY' });
      await assert.rejects(s.insertApiToken({ ...a, id: 'x', hash: 'nothex' }), { code: 'FLOE_STORE_BAD_QUERY' });
      assert.deepEqual(await s.getApiToken('aaaa1111'), a);
      assert.equal(await s.getApiToken("aaaa1111' OR '1'='1"), undefined, 'an id is data, never SQL');
      assert.deepEqual(
        (await s.listApiTokens()).map((x) => x.id),
        ['bbbb2222', 'aaaa1111'],
      );
      assert.equal(await s.revokeApiToken('aaaa1111', T0 + 5000), true);
      assert.equal(await s.revokeApiToken('aaaa1111', T0 + 6000), false, 'revoked already');
      assert.equal(await s.revokeApiToken('nosuch00', T0 + 6000), false);
      assert.deepEqual(await s.getApiToken('aaaa1111'), { ...a, revokedAt: T0 + 5000 });
      assert.deepEqual(await s.getApiToken('bbbb2222'), b);
      assert.equal((await s.listApiTokens()).length, 2);
    });

    it('api audit: appended, newest first in pages with a cursor, filters by subject, method, status, action and [from, to)', async (t) => {
      const s = await started(t);
      const all: ApiAuditEntry[] = [];
      for (let i = 0; i < 7; i++) {
        all.push(
          apiAuditFixture({
            id: `e${i}`,
            at: T0 + Math.floor(i / 2) * 1000,
            subject: i % 2 ? 'token:aaaa1111' : 'anonymous',
            via: i % 2 ? 'token' : 'anonymous',
            role: i % 2 ? 'admin' : undefined,
            status: i % 3 === 0 ? 401 : 201,
            action: i === 6 ? 'token.create' : undefined,
          }),
        );
      }
      for (const e of all) await s.appendApiAudit(e);
      const expected = [...all].sort((x, y) => y.at - x.at || (x.id < y.id ? 1 : -1));
      const seen: ApiAuditEntry[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const p = await s.queryApiAudit({ limit: 3, cursor });
        assert.equal(p.total, 7);
        seen.push(...p.items);
        cursor = p.next;
        pages++;
      } while (cursor && pages < 10);
      assert.equal(pages, 3);
      assert.deepEqual(seen, expected, 'every field round-trips, absent ones stay absent');
      const ids = async (q: Parameters<Store['queryApiAudit']>[0]) => (await s.queryApiAudit(q)).items.map((e) => e.id).sort();
      assert.deepEqual(await ids({ subject: 'token:aaaa1111' }), ['e1', 'e3', 'e5']);
      assert.deepEqual(await ids({ status: 401 }), ['e0', 'e3', 'e6']);
      assert.deepEqual(await ids({ action: 'token.create' }), ['e6']);
      assert.deepEqual(await ids({ method: 'DELETE' }), []);
      assert.deepEqual(await ids({ from: T0 + 1000, to: T0 + 3000 }), ['e2', 'e3', 'e4', 'e5']);
      await assert.rejects(s.queryApiAudit({ status: 42 }), { code: 'FLOE_STORE_BAD_QUERY' });
      const dpage = await s.queryFindings({});
      assert.equal(dpage.next, undefined);
      await assert.rejects(s.queryApiAudit({ cursor: 'bm9wZQ' }), { code: 'FLOE_STORE_BAD_CURSOR' });
    });
  });
}

/** An API token record (the hash of `floe_<id>_secret`); override any field. */
export function apiTokenFixture(over: Partial<ApiTokenRecord> = {}): ApiTokenRecord {
  return { id: 'tok00001', name: 'test', role: 'viewer', hash: 'a'.repeat(64), createdAt: T0, createdBy: 'cli:root', ...over };
}

/** An API audit entry of a POST /v1/decisions; override any field (undefined fields are left out). */
export function apiAuditFixture(over: Partial<ApiAuditEntry> = {}): ApiAuditEntry {
  const e: ApiAuditEntry = {
    id: 'e0',
    at: T0,
    subject: 'anonymous',
    via: 'anonymous',
    method: 'POST',
    route: '/v1/decisions',
    path: '/v1/decisions',
    status: 201,
    ip: '127.0.0.1',
    requestId: 'req-1',
    ...over,
  };
  for (const k of Object.keys(e) as Array<keyof ApiAuditEntry>) if (e[k] === undefined) delete e[k];
  return e;
}
