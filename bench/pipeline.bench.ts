/**
 * End-to-end throughput of the embedded default: flow batches on the in-process bus ->
 * processor (policy classify + evaluate, port-scan and host-sweep detectors, responder) ->
 * DuckDB store (flows, findings, decisions). Input: the real nmap capture
 * (packages/flow/testdata/conntrack/captured-conntrack-E-extended-timestamp-nmap-top100-scan.log)
 * repeated with shifted times and addresses until FLOWS records. Prints flows/s and CPU seconds
 * per million flows for each variant, then the ratio stored/unstored (target >= 0.8). Not a test:
 * nothing passes or fails on time.
 *   node --conditions=floe-source --import tsx bench/pipeline.bench.ts [FLOWS]
 */
import { fileURLToPath } from 'node:url';
import { parseFile, type FlowRecord } from '@floe/flow';
import { createMemoryBus, TOPICS, type BusMessage } from '@floe/bus';
import { createDuckDbStore } from '@floe/store';
import { compilePolicy, defaultPolicy } from '@floe/policy';
import { createDetectors } from '@floe/detect';
import { createResponder, defaultResponderOptions } from '@floe/respond';
import { createPipeline, createProcessor } from '@floe/pipeline';

const FLOWS = Number(process.argv[2] ?? 200_000);
const CAPTURE = fileURLToPath(new URL('../packages/flow/testdata/conntrack/captured-conntrack-E-extended-timestamp-nmap-top100-scan.log', import.meta.url));

const { records } = await parseFile(CAPTURE, { format: 'conntrack' });
const flows: FlowRecord[] = [];
for (let round = 0; flows.length < FLOWS; round++) {
  for (const r of records) {
    if (flows.length >= FLOWS) break;
    // shift each round by 10 minutes and to another /16 so windows and dedup keys stay distinct
    const b = (round % 250) + 1;
    flows.push({ ...r, observedAt: r.observedAt + round * 600_000, srcAddr: r.srcAddr.replace(/^10\.\d+\./, `10.${b}.`) });
  }
}
const messages: BusMessage<FlowRecord[]>[] = [];
for (let i = 0; i < flows.length; i += 500) {
  const chunk = flows.slice(i, i + 500);
  const bySrc = new Map<string, FlowRecord[]>();
  for (const f of chunk) bySrc.set(f.srcAddr, [...(bySrc.get(f.srcAddr) ?? []), f]);
  for (const [key, value] of bySrc) messages.push({ key, value });
}

async function run(storeFlows: boolean): Promise<number> {
  const bus = createMemoryBus();
  const store = createDuckDbStore({ path: ':memory:' });
  await bus.start();
  await store.start();
  const policy = compilePolicy(defaultPolicy());
  const processor = createProcessor({ group: 'bench', storeFlows }, {
    bus, store,
    pipeline: createPipeline({ policy, detectors: createDetectors(policy.policy.detectors) }),
    responder: createResponder({ ...defaultResponderOptions(), maxNewBlocksPerMinute: 1_000_000 }),
  });
  await processor.start();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < messages.length; i += 200) await bus.publish(TOPICS.flows, messages.slice(i, i + 200));
  while (processor.health().flows < flows.length) await new Promise((r) => setTimeout(r, 5));
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSecs = (cpu.user + cpu.system) / 1e6;
  const h = processor.health();
  console.log(`pipeline (${storeFlows ? 'flows stored' : 'findings and decisions only'}): ${flows.length} flows in ${secs.toFixed(2)} s = ${Math.round(flows.length / secs).toLocaleString('en')} flows/s; ` +
    `CPU ${(cpuSecs / (flows.length / 1e6)).toFixed(1)} s per million flows; ${h.findings} findings, ${h.decisions} decisions`);
  await bus.stop();
  await store.stop();
  return flows.length / secs;
}

// Both variants in one process, one after the other, so their ratio compares like with like.
const unstored = await run(false);
const stored = await run(true);
console.log(`pipeline stored/unstored throughput ratio: ${(stored / unstored).toFixed(2)} (${Math.round(stored).toLocaleString('en')} / ${Math.round(unstored).toLocaleString('en')} flows/s; target >= 0.80)`);
