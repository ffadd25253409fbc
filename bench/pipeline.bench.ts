/**
 * End-to-end throughput of the embedded default: flow batches on the in-process bus ->
 * processor (policy classify + evaluate, port-scan and host-sweep detectors, responder) ->
 * DuckDB store (flows, findings, decisions). Input: the real nmap capture
 * (packages/flow/testdata/conntrack/captured-conntrack-E-extended-timestamp-nmap-top100-scan.log)
 * repeated with shifted times and addresses until FLOWS records. Prints flows/s and CPU seconds
 * per million flows for each variant, then the ratio stored/unstored (target >= 0.8). Not a test:
 * nothing passes or fails on time.
 *
 * Both variants get the same input, policy and detectors. One warm-up run of each (a tenth of the
 * flows, not counted) loads code and JIT; then REPS repetitions alternate the order of the two
 * variants (unstored first in odd repetitions, stored first in even ones) so a change of load on
 * a shared machine hits both alike; the ratio is of the medians.
 *   node --conditions=floe-source --import tsx bench/pipeline.bench.ts [FLOWS] [REPS]
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
const REPS = Number(process.argv[3] ?? 3);
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
/** Bus messages of `flows`: per 500 flows, one message per source address (the agent's shape). */
function messagesOf(flows: FlowRecord[]): BusMessage<FlowRecord[]>[] {
  const messages: BusMessage<FlowRecord[]>[] = [];
  for (let i = 0; i < flows.length; i += 500) {
    const chunk = flows.slice(i, i + 500);
    const bySrc = new Map<string, FlowRecord[]>();
    for (const f of chunk) bySrc.set(f.srcAddr, [...(bySrc.get(f.srcAddr) ?? []), f]);
    for (const [key, value] of bySrc) messages.push({ key, value });
  }
  return messages;
}
const messages = messagesOf(flows);

async function run(storeFlows: boolean, messages: BusMessage<FlowRecord[]>[], flows: FlowRecord[], label: string): Promise<number> {
  const bus = createMemoryBus();
  const store = createDuckDbStore({ path: ':memory:' });
  await bus.start();
  await store.start();
  const policy = compilePolicy(defaultPolicy());
  const processor = createProcessor(
    { group: 'bench', storeFlows },
    {
      bus,
      store,
      pipeline: createPipeline({ policy, detectors: createDetectors(policy.policy.detectors) }),
      responder: createResponder({ ...defaultResponderOptions(), maxNewBlocksPerMinute: 1_000_000 }),
    },
  );
  await processor.start();
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  for (let i = 0; i < messages.length; i += 200) await bus.publish(TOPICS.flows, messages.slice(i, i + 200));
  while (processor.health().flows < flows.length) await new Promise((r) => setTimeout(r, 5));
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSecs = (cpu.user + cpu.system) / 1e6;
  const busyUs = (performance.eventLoopUtilization(elu0).active * 1000) / flows.length;
  const h = processor.health();
  console.log(
    `${label} pipeline (${storeFlows ? 'flows stored' : 'findings and decisions only'}): ${flows.length} flows in ${secs.toFixed(2)} s = ${Math.round(flows.length / secs).toLocaleString('en')} flows/s; ` +
      `CPU ${(cpuSecs / (flows.length / 1e6)).toFixed(1)} s per million flows (event loop busy ${busyUs.toFixed(1)} µs per flow); ${h.findings} findings, ${h.decisions} decisions`,
  );
  await bus.stop();
  await store.stop();
  return flows.length / secs;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x: number): string => Math.round(x).toLocaleString('en');

// Warm-up (not counted): a tenth of the flows through each variant.
const warm = flows.slice(0, Math.max(1, Math.floor(flows.length / 10)));
const warmMessages = messagesOf(warm);
await run(false, warmMessages, warm, 'warm-up');
await run(true, warmMessages, warm, 'warm-up');

// Both variants in one process, alternating, so their ratio compares like with like.
const unstored: number[] = [];
const stored: number[] = [];
for (let rep = 1; rep <= REPS; rep++) {
  const order = rep % 2 ? [false, true] : [true, false];
  for (const storeFlows of order) (storeFlows ? stored : unstored).push(await run(storeFlows, messages, flows, `rep ${rep}/${REPS}`));
}
const mu = median(unstored);
const ms = median(stored);
console.log(
  `pipeline stored/unstored throughput ratio: ${(ms / mu).toFixed(2)} (medians of ${REPS}: ${fmt(ms)} / ${fmt(mu)} flows/s; ` +
    `per repetition ${stored.map((s, i) => (s / unstored[i]).toFixed(2)).join(', ')}; target >= 0.80)`,
);
