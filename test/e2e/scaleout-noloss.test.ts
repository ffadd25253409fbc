/**
 * Issue 3, "No loss, no double count": a known set of distinct flows (default 100,000, made from
 * the real conntrack and ulogd NFCT captures) goes through a private Kafka broker to a processor
 * PROCESS (services/processor/dist/main.js, store.kind clickhouse). Mid-stream the processor is
 * killed with SIGKILL and started again, and later the broker is stopped and started again.
 * Afterwards the consumer group has committed everything and ClickHouse holds exactly the
 * produced flows: store.countFlows() and a direct SUM over `flows FINAL` equal the figures
 * computed here from the produced records (count, bytesOrig + bytesReply, packets).
 *
 * Needs Java with the jars of deploy/dev/kafka.sh (a private broker on free ports and a temp
 * folder; the shared dev broker is never touched) and the ClickHouse endpoint
 * (FLOE_TEST_CLICKHOUSE_URL, default http://127.0.0.1:18123; a fresh database per run, dropped
 * afterwards). Skips without them unless CI or FLOE_REQUIRE_KAFKA=1 (then it fails).
 * FLOE_NOLOSS_FLOWS changes the number of flows (at least 100,000 for the issue).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { createKafkaBus, TOPICS } from '@floe/bus';
import { createClickHouseStore, flowDedupKey } from '@floe/store';
import { kafkaBrokerBlocker, PrivateKafkaBroker } from '../helpers/kafka-broker.js';
import { chQuery, clickhouseBlocker, flowBatches, makeFlows, ProcessorProcess, totalsOf } from '../helpers/flow-load.js';
import { until } from '../helpers/wait.js';

const CH_URL = process.env.FLOE_TEST_CLICKHOUSE_URL ?? 'http://127.0.0.1:18123';
const FLOWS = Number(process.env.FLOE_NOLOSS_FLOWS ?? 100_000);
const PARTITIONS = 4;
/** Most flows the producer may be ahead of what ClickHouse holds, so the faults hit mid-stream. */
const WINDOW = 15_000;
const required = (!!process.env.CI && process.env.CI !== 'false') || process.env.FLOE_REQUIRE_KAFKA === '1' || process.env.FLOE_REQUIRE_CLICKHOUSE === '1';
const blocker = kafkaBrokerBlocker() ?? (await clickhouseBlocker(CH_URL));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One run's private world: progress lines, a work folder, a private broker (created, not yet
 * started), a fresh ClickHouse database and consumer group, the Kafka producer bus (made by
 * `connect()` once the broker runs), and `startProcessor()`; all of it is removed in t.after.
 */
async function noLossRig(t: TestContext) {
  const t0 = Date.now();
  const say = (msg: string) => {
    const line = `[${((Date.now() - t0) / 1000).toFixed(1)} s] ${msg}`;
    t.diagnostic(line);
    if (process.env.NOLOSS_VERBOSE) process.stderr.write(`# ${line}\n`);
  };
  const work = mkdtempSync(join(tmpdir(), 'floe-noloss-'));
  const broker = await PrivateKafkaBroker.create();
  const database = `floe_noloss_${randomBytes(5).toString('hex')}`;
  const group = `floe-noloss-${randomBytes(3).toString('hex')}`;
  const procs: ProcessorProcess[] = [];
  t.after(async () => {
    for (const p of procs) await p.kill('SIGKILL');
    await broker.destroy().catch(() => undefined);
    await chQuery(CH_URL, 'default', `DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  });
  const configFile = join(work, 'processor.json');
  const logFile = join(work, 'processor.log');
  return {
    t0,
    say,
    work,
    broker,
    database,
    group,
    /** The producer's Kafka bus (creates floe.flows.v1 with PARTITIONS partitions) and the processor's config file. */
    async connect() {
      const bus = createKafkaBus({ brokers: [broker.bootstrap], clientId: 'noloss-producer', partitions: PARTITIONS });
      await bus.start();
      t.after(() => bus.stop());
      ProcessorProcess.writeConfig(configFile, { brokers: [broker.bootstrap], clickhouseUrl: CH_URL, database, group, partitions: PARTITIONS });
      return bus;
    },
    async startProcessor(): Promise<ProcessorProcess> {
      const p = new ProcessorProcess(configFile, logFile);
      procs.push(p);
      await Promise.race([
        p.started,
        sleep(60_000).then(() => {
          throw new Error(`processor did not start within 60 s:\n${p.tail()}`);
        }),
      ]);
      return p;
    },
  };
}

test('scale-out: flows through Kafka to ClickHouse with a SIGKILLed processor and a restarted broker: none lost, none counted twice', {
  skip: required ? false : blocker,
  timeout: 330_000,
}, async (t) => {
  if (blocker) assert.fail(`required (CI / FLOE_REQUIRE_KAFKA) but unavailable: ${blocker}`);
  assert.ok(FLOWS >= 1, 'FLOE_NOLOSS_FLOWS must be a positive number');
  const { t0, say, broker, database, group, connect, startProcessor } = await noLossRig(t);

  const flows = await makeFlows(FLOWS);
  const expected = totalsOf(flows);
  // Precondition of the exact count: every produced record is a different flow for the store.
  assert.equal(new Set(flows.map(flowDedupKey)).size, FLOWS, 'the generated flows are all distinct (flowDedupKey)');
  say(`produced set: ${expected.flows} flows, ${expected.bytes} bytes, ${expected.packets} packets`);

  say(`private broker ${broker.bootstrap} started in ${await broker.start()} ms (folder ${broker.dir})`);

  const bus = await connect();
  say('producer connected, topics created');
  const admin = new kafkajs.Kafka({ clientId: 'noloss-check', brokers: [broker.bootstrap], logLevel: kafkajs.logLevel.NOTHING }).admin();

  const t1 = Date.now();
  let proc = await startProcessor();
  say(`processor pid ${proc.pid} consuming (group ${group}, database ${database}) after ${Date.now() - t1} ms`);

  // What ClickHouse holds (rows, before FINAL collapses repeated inserts), polled while producing.
  let stored = 0;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      try {
        stored = Number((await chQuery<{ n: number }>(CH_URL, database, 'SELECT count() AS n FROM flows'))[0].n);
      } catch {
        /* table not there yet */
      }
      await sleep(500);
    }
  })();
  t.after(async () => {
    polling = false;
    await poller;
  });

  let produced = 0;
  const batches = flowBatches(flows, 500);
  const producing = (async () => {
    for (let i = 0; i < batches.length; i += 4) {
      while (produced - stored > WINDOW) await sleep(50);
      const msgs = batches.slice(i, i + 4).flat();
      await bus.publish(TOPICS.flows, msgs); // resolves after acks=all from the idempotent producer
      for (const m of msgs) produced += m.value!.length;
    }
  })();
  producing.catch(() => undefined);
  const progress = setInterval(() => say(`produced ${produced}, rows in ClickHouse ${stored}`), 10_000);
  t.after(() => clearInterval(progress));

  // Fault 1: SIGKILL the processor mid-stream, start a new one (same group, same database).
  // The broker is frozen (SIGSTOP) for 3 s before the kill: the batch the processor has in hand
  // is stored but its offset commit cannot reach the broker, so the kill leaves stored flows
  // uncommitted, the case where a replay must not count twice.
  await until('30 % of the flows in ClickHouse', 120_000, () => stored >= FLOWS * 0.3, 250);
  const killedAt = { produced, stored };
  broker.pause();
  await sleep(3000);
  const dead = await proc.kill('SIGKILL');
  broker.resume();
  assert.equal(dead.signal, 'SIGKILL');
  const [afterKill] = await chQuery<{ n: number }>(CH_URL, database, 'SELECT count() AS n FROM flows');
  say(`processor SIGKILLed (broker frozen for 3 s before) at produced ${killedAt.produced}, rows in ClickHouse ${killedAt.stored} before, ${afterKill.n} after`);
  const t2 = Date.now();
  proc = await startProcessor();
  say(`processor restarted as pid ${proc.pid}, consuming after ${Date.now() - t2} ms`);

  // Fault 2: stop the broker (controlled shutdown) and start it again, mid-stream.
  await until('60 % of the flows in ClickHouse', 120_000, () => stored >= FLOWS * 0.6, 250);
  say(`broker stop at produced ${produced}, stored ${stored}`);
  const stopMs = await broker.stop();
  const startMs = await broker.start();
  say(`broker stopped in ${stopMs} ms and started again in ${startMs} ms (produced ${produced}, stored ${stored})`);

  await until(
    'the producer to publish every flow',
    120_000,
    async () => {
      if (!proc.running) throw new Error(`processor exited ${proc.child.exitCode}: ${proc.tail()}`);
      return produced === FLOWS;
    },
    250,
  );
  await producing;
  say(`all ${produced} flows acknowledged by the broker`);

  // Done when the group has committed every offset of floe.flows.v1 (the processor commits a
  // batch only after its flows are stored).
  await admin.connect();
  t.after(() => admin.disconnect());
  const ends = new Map((await admin.fetchTopicOffsets(TOPICS.flows)).map((p) => [p.partition, Number(p.high)]));
  let lag = Infinity;
  await until(
    'the processor to commit every offset',
    120_000,
    async () => {
      if (!proc.running) throw new Error(`processor exited ${proc.child.exitCode}: ${proc.tail()}`);
      const committed = (await admin.fetchOffsets({ groupId: group, topics: [TOPICS.flows] }))[0].partitions;
      lag = committed.reduce((s, p) => s + (ends.get(p.partition)! - Math.max(0, Number(p.offset))), 0);
      return lag === 0;
    },
    500,
  );
  clearInterval(progress);
  say(`consumer group ${group} committed every offset (${[...ends.values()].reduce((a, b) => a + b, 0)} messages)`);
  polling = false;
  await poller;

  const store = createClickHouseStore({ url: CH_URL, database });
  await store.start();
  const counted = await store.countFlows();
  await store.stop();
  const [direct] = await chQuery<{ n: number; keys: number; bytes: number; packets: number }>(
    CH_URL,
    database,
    'SELECT count() AS n, uniqExact(dedup_key) AS keys, sum(ifNull(bytes_orig, 0) + ifNull(bytes_reply, 0)) AS bytes, ' +
      'sum(ifNull(packets_orig, 0) + ifNull(packets_reply, 0)) AS packets FROM flows FINAL',
  );
  const [raw] = await chQuery<{ n: number }>(CH_URL, database, 'SELECT count() AS n FROM flows');
  // The per-minute report rollup is fed by the inserts themselves: a replayed batch that wrote
  // rows again would show here even though FINAL hides it in flows.
  const [rollup] = await chQuery<{ n: number; bytes: number }>(CH_URL, database, 'SELECT sum(flows) AS n, sum(bytes_orig + bytes_reply) AS bytes FROM flows_1m');
  say(`ClickHouse: countFlows ${JSON.stringify(counted)}; FINAL ${JSON.stringify(direct)}; rows before FINAL ${raw.n}; rollup flows_1m ${JSON.stringify(rollup)}`);
  if (Number(direct.n) !== FLOWS) {
    const have = new Set((await chQuery<{ k: string }>(CH_URL, database, 'SELECT DISTINCT dedup_key AS k FROM flows')).map((r: { k: string }) => r.k));
    const missing = flows.filter((f) => !have.has(flowDedupKey(f)));
    say(`missing ${missing.length} flows, e.g. ${JSON.stringify(missing.slice(0, 3))}`);
  }

  assert.deepEqual(counted, { flows: expected.flows, bytes: expected.bytes }, 'store.countFlows() equals what was produced');
  assert.deepEqual(
    { flows: Number(direct.n), keys: Number(direct.keys), bytes: Number(direct.bytes), packets: Number(direct.packets) },
    { flows: expected.flows, keys: expected.flows, bytes: expected.bytes, packets: expected.packets },
    'count, distinct keys and byte and packet sums over flows FINAL equal what was produced',
  );
  assert.deepEqual(
    { flows: Number(rollup.n), bytes: Number(rollup.bytes) },
    { flows: expected.flows, bytes: expected.bytes },
    'the per-minute rollup (flows_1m) counts every flow once',
  );

  const again = (await proc.handledFlows()) - (FLOWS - Number(afterKill.n));
  say(`flows the restarted processor handled although they were already stored (redelivered after the kill or the broker restart): ${again}`);
  const end = await proc.kill('SIGTERM');
  assert.equal(end.code, 0, 'the restarted processor shuts down cleanly (SIGTERM: drain, commit, close)');
  say(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});

test('scale-out: flows published while a processor that never committed is dead reach ClickHouse after its restart', {
  skip: required ? false : blocker,
  timeout: 180_000,
}, async (t) => {
  if (blocker) assert.fail(`required (CI / FLOE_REQUIRE_KAFKA) but unavailable: ${blocker}`);
  const { say, broker, database, group, connect, startProcessor } = await noLossRig(t);
  const flows = await makeFlows(5000);
  const expected = totalsOf(flows);
  await broker.start();
  const bus = await connect();

  // The group's first member joins (its start is the end of the empty topic), then dies
  // before it handled, and so committed, anything.
  const first = await startProcessor();
  assert.equal((await first.kill('SIGKILL')).signal, 'SIGKILL');
  say('first processor joined the group and was SIGKILLed before any flow arrived');
  for (const b of flowBatches(flows, 500)) await bus.publish(TOPICS.flows, b);
  say(`${flows.length} flows published while no processor runs`);

  const second = await startProcessor();
  say(`processor restarted as pid ${second.pid}`);
  const admin = new kafkajs.Kafka({ clientId: 'noloss-check', brokers: [broker.bootstrap], logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
  t.after(() => admin.disconnect());
  const ends = new Map((await admin.fetchTopicOffsets(TOPICS.flows)).map((p) => [p.partition, Number(p.high)]));
  await until(
    'the restarted processor to commit every offset',
    30_000,
    async () => {
      const committed = (await admin.fetchOffsets({ groupId: group, topics: [TOPICS.flows] }))[0].partitions;
      return committed.every((p) => Number(p.offset) >= ends.get(p.partition)!);
    },
    500,
  ).catch((e: Error) => say(e.message)); // the counts below tell what is missing
  const [stored] = await chQuery<{ n: number; bytes: number }>(
    CH_URL,
    database,
    'SELECT count() AS n, sum(ifNull(bytes_orig, 0) + ifNull(bytes_reply, 0)) AS bytes FROM flows FINAL',
  );
  say(`ClickHouse FINAL: ${JSON.stringify(stored)}`);
  assert.deepEqual(
    { flows: Number(stored.n), bytes: Number(stored.bytes) },
    { flows: expected.flows, bytes: expected.bytes },
    'every flow published while the processor was dead is stored after its restart',
  );
  assert.equal((await second.kill('SIGTERM')).code, 0);
});
