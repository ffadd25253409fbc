// dns.resolver and dns.volume on a real capture (testdata/capture-exfil-dns-lateral.sh): 10.232.1.2
// asks the named resolver 10.232.1.53 three queries a second for 10 s, then 400 queries with random
// names in a burst; 10.232.1.4 asks 198.51.100.53 (not named) twice and tries DNS over TLS there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDetectors, createDnsResolverDetector, createDnsVolumeDetector, defaultDnsOptions, type DnsOptions } from './index.js';
import { DNS_LOG, RESOLVERS_LOG, labPolicy, lastForms, loadClassified, runFlush } from './test-lab.js';

const policy = labPolicy('  dns: { resolvers: [10.232.1.53], windowMs: 2000, minQueries: 20, learnWindows: 3 }\n');
const opts = (o: Partial<DnsOptions> = {}): DnsOptions => ({ ...policy.policy.detectors.dns, ...o });
/** The burst: the 400 queries of 10.232.1.2 after the 10.232.1.4 ones. */
const burstStart = (flows: { srcAddr: string; observedAt: number }[]) => Math.min(...flows.filter((f) => f.srcAddr === '10.232.1.4').map((f) => f.observedAt)) + 1000;

test('dns.resolver: 10.232.1.4 asking an unnamed resolver (udp/53 twice, DoT tcp/853 once) is one finding; the named resolver raises none', async () => {
  const flows = await loadClassified(DNS_LOG, policy);
  const found = lastForms(runFlush([createDnsResolverDetector(opts())], flows));
  assert.equal(found.length, 1, JSON.stringify(found.map((f) => f.summary)));
  const [f] = found;
  assert.equal(f.detector, 'dns.resolver');
  assert.equal(f.mitre, 'T1071.004');
  assert.equal(f.severity, 'medium');
  assert.equal(f.entity.addr, '10.232.1.4');
  assert.deepEqual(f.peers, ['198.51.100.53']);
  assert.equal(f.evidence.flows, 3, 'each connection once (NEW and UPDATE of one query count once)');
  assert.deepEqual(f.evidence.resolvers, [{ addr: '198.51.100.53', queries: 3, services: { 'udp/53': 2, 'tcp/853': 1 } }]);
  assert.equal(f.evidence.dnsOverTls, true);
  assert.match(f.summary, /^10\.232\.1\.4 sent 3 DNS queries to 1 resolver\(s\) the policy does not name: 198\.51\.100\.53 \(udp\/53 ×2, tcp\/853 ×1\)$/);
});

test('dns.resolver: off when the policy names no resolver; a named resolver forwarding upstream is not flagged', async () => {
  const none = labPolicy('  dns: { resolvers: [] }\n');
  assert.ok(!createDetectors(none.policy.detectors).some((d) => d.id === 'dns.resolver'));
  assert.ok(createDetectors(policy.policy.detectors).some((d) => d.id === 'dns.resolver'));
  // Naming 10.232.1.4 a resolver (a forwarder) silences its upstream queries.
  const flows = await loadClassified(DNS_LOG, policy);
  assert.equal(runFlush([createDnsResolverDetector(opts({ resolvers: ['10.232.1.53', '10.232.1.4'] }))], flows).length, 0);
});

test('dns.volume: the 400-query burst of 10.232.1.2 is far above its 3-a-second baseline: one finding', async () => {
  const flows = await loadClassified(DNS_LOG, policy);
  const found = lastForms(runFlush([createDnsVolumeDetector(opts())], flows));
  assert.equal(found.length, 1, JSON.stringify(found.map((f) => f.summary)));
  const [f] = found;
  assert.equal(f.detector, 'dns.volume');
  assert.equal(f.entity.addr, '10.232.1.2');
  assert.deepEqual(f.evidence.reasons, ['rate']);
  assert.equal(f.evidence.baselineLearnt, true);
  assert.ok((f.evidence.baselineMean as number) >= 3 && (f.evidence.baselineMean as number) <= 6, String(f.evidence.baselineMean));
  const burst = flows.filter((x) => x.srcAddr === '10.232.1.2' && x.event === 'new' && x.observedAt >= burstStart(flows));
  assert.equal(burst.length, 400);
  assert.ok((f.evidence.queries as number) >= 200 && (f.evidence.queries as number) <= 400, 'the burst, in one or two 2 s windows');
  assert.ok(f.firstSeen >= burst[0].observedAt);
  assert.deepEqual(f.evidence.techniques, ['T1071.004', 'T1568.002']);
});

test('dns.volume: the steady 3 queries a second alone raise nothing, nor do the three of 10.232.1.4', async () => {
  const flows = await loadClassified(DNS_LOG, policy);
  const before = flows.filter((x) => x.observedAt < burstStart(flows));
  assert.ok(before.filter((x) => x.event === 'new').length >= 30);
  assert.equal(runFlush([createDnsVolumeDetector(opts())], before).length, 0);
  // Without a learnt baseline only maxQueries counts: the burst (400 in a window) is below 600.
  assert.equal(runFlush([createDnsVolumeDetector(opts({ learnWindows: 100 }))], flows).length, 0);
  // ...and at maxQueries 150 it raises again, baseline or not.
  assert.equal(lastForms(runFlush([createDnsVolumeDetector(opts({ learnWindows: 100, maxQueries: 150 }))], flows)).length, 1);
});

test('dns: 10.232.1.6 asking four unnamed resolvers: dns.volume (reason resolvers) and one dns.resolver finding listing all four', async () => {
  const flows = await loadClassified(RESOLVERS_LOG, policy);
  const all = runFlush([createDnsVolumeDetector(opts()), createDnsResolverDetector(opts())], flows);
  const found = lastForms(all);
  assert.deepEqual(
    found.map((f) => [f.detector, f.entity.addr]),
    [
      ['dns.resolver', '10.232.1.6'],
      ['dns.volume', '10.232.1.6'],
    ],
  );
  const resolvers = ['198.51.100.53', '198.51.100.54', '198.51.100.55', '198.51.100.56'];
  const [res, vol] = found;
  assert.deepEqual(res.peers, resolvers);
  assert.equal(res.evidence.flows, 8);
  // Raised at the first resolver, updated when the count doubled (2, then 4), final with the 8th query.
  assert.deepEqual(
    all.filter((f) => f.id === res.id).map((f) => [f.evidence.distinctHosts, f.evidence.flows]),
    [
      [1, 1],
      [2, 3],
      [4, 7],
      [4, 8],
    ],
  );
  assert.deepEqual(vol.evidence.reasons, ['resolvers']);
  assert.deepEqual(vol.peers, resolvers);
  // Raised at the first query to the 4th resolver (the 7th query), final form with all 8.
  assert.deepEqual(
    all.filter((f) => f.id === vol.id).map((f) => f.evidence.queries),
    [7, 8],
  );
});

test('dns: the defaults are the policy defaults', () => {
  assert.deepEqual(defaultDnsOptions(), labPolicy('  {}\n').policy.detectors.dns);
});
