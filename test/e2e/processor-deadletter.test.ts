/**
 * Issue 6, "the processor": on a real Kafka broker,
 * - poison messages on floe.flows.v1 (bytes that are not JSON, a record with `schema: 99`, a
 *   record that makes a step throw) land on floe.deadletter.v1 with their reason and original
 *   bytes, and the flows published behind them on the same partition are stored (DuckDB);
 * - a clean stop() drains and commits: the group's committed offsets reach the end of the topic;
 * - a killed consumer (the broker goes away, `bus.consumerRestarts: 0`) makes the processor
 *   PROCESS fail its processor component and exit 1 (the in-process health turning false is
 *   asserted in packages/pipeline/src/deadletter.test.ts: the stop is too quick to poll).
 *
 * The first two use the dev broker (deploy/dev, 127.0.0.1:19092) with a unique topic prefix; the
 * last a private broker (test/helpers/kafka-broker.ts) it can stop. Skips without them unless
 * CI or FLOE_REQUIRE_KAFKA=1 (then it fails).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import type { FlowRecord } from '@floe/flow';
import { createKafkaBus, TOPICS, type DeadLetter } from '@floe/bus';
import { createDuckDbStore } from '@floe/store';
import { compilePolicy, defaultPolicy } from '@floe/policy';
import { createDetectors } from '@floe/detect';
import { createResponder, defaultResponderOptions } from '@floe/respond';
import { createPipeline, createProcessor, type Pipeline } from '@floe/pipeline';
import { kafkaBrokerBlocker, PrivateKafkaBroker } from '../helpers/kafka-broker.js';
import { scaleOutRequired, tcpReachable } from '../helpers/scaleout-roles.js';
import { until } from '../helpers/wait.js';

const BROKER = process.env.FLOE_KAFKA_BROKER ?? '127.0.0.1:19092';
const required = scaleOutRequired();
const PROCESSOR_MAIN = fileURLToPath(new URL('../../services/processor/dist/main.js', import.meta.url));
const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const POISON_PORT = 6666;

const devBlocker = (await tcpReachable(BROKER)) ? undefined : `no Kafka broker on ${BROKER} (bash deploy/dev/up.sh)`;
const skipDev = devBlocker && !required ? devBlocker : false;
const privateBlocker = kafkaBrokerBlocker();
const skipPrivate = privateBlocker && !required ? privateBlocker : false;

function flow(i: number, over: Partial<FlowRecord> = {}): FlowRecord {
  return {
    schema: 1,
    observedAt: T0 + i,
    source: 'conntrack',
    event: 'new',
    family: 4,
    protocol: 6,
    srcAddr: '10.9.0.1',
    dstAddr: `10.9.1.${i}`,
    srcPort: 40_000 + i,
    dstPort: 443,
    ...over,
  };
}

/** The real pipeline with a detector that throws on POISON_PORT (a record that makes a step throw). */
function poisonablePipeline(): Pipeline {
  const policy = compilePolicy(defaultPolicy());
  const real = createPipeline({ policy, detectors: createDetectors(policy.policy.detectors) });
  return Object.assign(Object.create(real) as Pipeline, {
    detect(f: FlowRecord) {
      if (f.dstPort === POISON_PORT) throw new TypeError('injected detector bug');
      return real.detect(f);
    },
  });
}

test('poison on floe.flows.v1 lands in floe.deadletter.v1 with reason and bytes; the flows behind it are stored; stop() commits', {
  skip: skipDev,
  timeout: 120_000,
}, async (t) => {
  const prefix = `dltest-${randomBytes(4).toString('hex')}.`;
  const group = `dl-${randomBytes(3).toString('hex')}`;
  const bus = createKafkaBus({ brokers: [BROKER], clientId: 'floe-dl-test', partitions: 2, topicPrefix: prefix, retryBackoffMs: 50, maxRetryBackoffMs: 500 });
  const store = createDuckDbStore({ path: ':memory:' });
  const kafka = new kafkajs.Kafka({ brokers: [BROKER], logLevel: kafkajs.logLevel.NOTHING });
  const producer = kafka.producer();
  const admin = kafka.admin();
  t.after(async () => {
    await bus.stop();
    await store.stop();
    await producer.disconnect();
    const topics = (await admin.listTopics()).filter((n) => n.startsWith(prefix));
    if (topics.length) await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
  });
  await bus.start();
  await store.start();
  await producer.connect();
  await admin.connect();
  const processor = createProcessor(
    { group, storeFlows: true, retries: 1 },
    {
      bus,
      store,
      pipeline: poisonablePipeline(),
      responder: createResponder(defaultResponderOptions()),
    },
  );
  await processor.start();
  const dead: DeadLetter[] = [];
  await bus.subscribe<DeadLetter>(TOPICS.deadletter, { group: `${group}-watch`, fromBeginning: true }, async (b) => {
    for (const m of b.messages) if (m.value) dead.push(m.value);
  });

  // One key, so one partition: everything published behind a poison message waits on it.
  const key = '10.9.0.1';
  const notJson = Buffer.from('{"schema":1,"observedAt":\u0000 not json', 'utf8');
  const schema99 = Buffer.from(JSON.stringify({ ...flow(3), schema: 99 }), 'utf8');
  const throwing = [flow(4), flow(5, { dstPort: POISON_PORT }), flow(6)];
  const behind = [flow(7), flow(8), flow(9)];
  const topic = `${prefix}${TOPICS.flows}`;
  const send = (value: Buffer | string) => producer.send({ topic, messages: [{ key, value }] });
  await send(JSON.stringify([flow(1), flow(2)]));
  await send(notJson);
  await send(schema99);
  await send(JSON.stringify(throwing));
  await send(JSON.stringify(behind));

  await until('the flows behind the poison stored', 60_000, async () => (await store.countFlows()).flows === 7);
  await until('three dead letters on floe.deadletter.v1', 30_000, () => dead.length === 3);
  const byReason = new Map(dead.map((d) => [d.reason, d]));
  assert.deepEqual([...byReason.keys()].sort(), ['schema-version', 'step-error', 'undecodable']);
  assert.deepEqual(Buffer.from(byReason.get('undecodable')!.payload, 'base64'), notJson, 'the original bytes of the undecodable message');
  assert.deepEqual(Buffer.from(byReason.get('schema-version')!.payload, 'base64'), schema99, 'the original bytes of the schema-99 message');
  const se = byReason.get('step-error')!;
  assert.deepEqual([se.step, se.record], ['detect', 1]);
  assert.equal(JSON.parse(Buffer.from(se.payload, 'base64').toString()).dstPort, POISON_PORT);
  for (const d of dead) assert.deepEqual([d.topic, d.key, d.group], [TOPICS.flows, key, group]);
  assert.deepEqual(dead.map((d) => d.offset).sort(), ['1', '2', '3'], 'offsets of the poison messages in their partition');
  assert.deepEqual((await store.queryDeadLetters({})).map((d) => d.reason).sort(), ['schema-version', 'step-error', 'undecodable']);
  assert.equal(processor.health().ok, true);

  // A clean stop drains and commits: the group's offsets are at the end of every partition.
  await processor.stop();
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p.high]));
  const committed = (await admin.fetchOffsets({ groupId: group, topics: [topic] }))[0].partitions;
  for (const p of committed) assert.equal(p.offset, ends.get(p.partition), `partition ${p.partition} committed to its end`);
});

test('a killed consumer turns the processor process unhealthy and it exits 1', { skip: skipPrivate, timeout: 180_000 }, async (t) => {
  const broker = await PrivateKafkaBroker.create();
  const dir = mkdtempSync(join(tmpdir(), 'floe-processor-death-'));
  t.after(async () => {
    await broker.destroy().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  await broker.start();
  const config = join(dir, 'processor.json');
  writeFileSync(
    config,
    JSON.stringify({
      log: { level: 'info' },
      processor: { group: 'death-test', storeFlows: true },
      bus: { kind: 'kafka', brokers: [broker.bootstrap], partitions: 1, consumerRestarts: 0 },
      store: { kind: 'duckdb', path: ':memory:' },
      health: { processorPort: 0, shutdownTimeoutMs: 20_000 },
    }),
  );
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FLOE_')));
  const child = spawn(process.execPath, [PROCESSOR_MAIN, '-c', config], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const lines: string[] = [];
  let url: string | undefined;
  for (const s of [child.stdout, child.stderr]) {
    createInterface({ input: s }).on('line', (l) => {
      lines.push(l);
      if (l.includes('"msg":"health endpoint listening"')) url = /"url":"([^"]+)"/.exec(l)?.[1];
    });
  }
  const status = async (): Promise<number> => {
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return 0;
    }
  };
  await until(
    'the processor healthy',
    60_000,
    async () => {
      if (child.exitCode !== null) throw new Error(`processor exited ${child.exitCode}:\n${lines.slice(-30).join('\n')}`);
      return url !== undefined && (await status()) === 200;
    },
    100,
  );

  await broker.stop();
  const code = await exited;
  const tail = lines.slice(-30).join('\n');
  assert.equal(code, 1, tail);
  assert.ok(
    lines.some((l) => l.includes('consumer died; the processor is unhealthy')),
    tail,
  );
  // The service stopped because the processor component failed (ServiceContext.fail), not on a signal.
  const stopped = lines
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return {};
      }
    })
    .find((l) => l.msg === 'stopped' && !l.component);
  assert.equal(stopped?.reason, 'processor failed', tail);
  // either of its consumers (floe.flows.v1, floe.gaps.v1) may notice the dead broker first
  assert.match(String(stopped?.failure), /FLOE_PIPELINE|consumer of floe\.(flows|gaps)\.v1 .* died/, tail);
  assert.notEqual(await status(), 200, 'the health endpoint no longer answers ok');
});
