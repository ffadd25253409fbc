/**
 * End-to-end throughput of the scale-out deployment on this machine: a producer in this process
 * (the Kafka bus adapter, collector-style messages of up to 500 flows keyed by source address)
 * -> floe.flows.v1 on a real Kafka broker -> the processor as its own PROCESS
 * (services/processor/dist/main.js: policy, detectors, responder) -> ClickHouse (the chDB-backed
 * dev endpoint, deploy/dev/clickhouse). Input: the real captures of test/helpers/flow-load.ts
 * repeated with shifted times and addresses until FLOWS distinct records.
 *
 * Prints flows/s from the first publish until the processor's consumer group has committed every
 * offset (it commits a batch only after its flows are stored), and CPU seconds per million flows
 * of the processor child read from /proc/<pid>/stat (utime + stime, over the same interval), plus
 * the same figure for the broker, the ClickHouse endpoint and this producer process
 * (process.cpuUsage) — they share this machine's cores. Not a test: nothing passes or fails on time.
 *
 * Kafka: a private broker (deploy/dev/kafka.sh with its own ports and temp folder, stopped at the
 * end), so nothing shares its topics. ClickHouse: FLOE_BENCH_CLICKHOUSE_URL or the dev endpoint
 * on 127.0.0.1:18123, started with deploy/dev/clickhouse.sh when it is not running (and stopped
 * again afterwards); a fresh database, dropped at the end. Build first (`npx tsc -b`).
 *   node --conditions=floe-source --import tsx bench/scaleout.bench.ts [FLOWS]
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import { createKafkaBus, TOPICS } from '@floe/bus';
import { PrivateKafkaBroker, kafkaBrokerBlocker } from '../test/helpers/kafka-broker.js';
import { chQuery, clickhouseBlocker, cpuSecondsOf, flowBatches, makeFlows, ProcessorProcess, totalsOf } from '../test/helpers/flow-load.js';

const FLOWS = Number(process.argv[2] ?? 200_000);
const PARTITIONS = 4;
const CH_URL = process.env.FLOE_BENCH_CLICKHOUSE_URL ?? 'http://127.0.0.1:18123';
const CLICKHOUSE_SH = fileURLToPath(new URL('../deploy/dev/clickhouse.sh', import.meta.url));
const CLICKHOUSE_PID = fileURLToPath(new URL('../.cache/clickhouse/server.pid', import.meta.url));
const out = (line: string) => process.stdout.write(line + '\n');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const kafkaBlocked = kafkaBrokerBlocker();
if (kafkaBlocked) {
  out(`scaleout: skipped: ${kafkaBlocked}`);
  process.exit(0);
}
let startedClickHouse = false;
if (await clickhouseBlocker(CH_URL)) {
  if (process.env.FLOE_BENCH_CLICKHOUSE_URL) throw new Error(`ClickHouse not reachable at ${CH_URL}`);
  out('scaleout: starting the dev ClickHouse endpoint (deploy/dev/clickhouse.sh start)');
  execFileSync('bash', [CLICKHOUSE_SH, 'start'], { stdio: 'inherit' });
  startedClickHouse = true;
}

const flows = await makeFlows(FLOWS);
const expected = totalsOf(flows);
const batches = flowBatches(flows, 500);
const work = mkdtempSync(join(tmpdir(), 'floe-bench-scaleout-'));
const broker = await PrivateKafkaBroker.create();
const database = `floe_bench_${randomBytes(5).toString('hex')}`;
const group = `floe-bench-${randomBytes(3).toString('hex')}`;
let proc: ProcessorProcess | undefined;
const bus = createKafkaBus({ brokers: [broker.bootstrap], clientId: 'bench-producer', partitions: PARTITIONS });
const admin = new kafkajs.Kafka({ clientId: 'bench-check', brokers: [broker.bootstrap], logLevel: kafkajs.logLevel.NOTHING }).admin();

const pidOf = (file: string): number | undefined => {
  try {
    return Number(readFileSync(file, 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
};

try {
  await broker.start();
  await bus.start();
  await admin.connect();
  const configFile = join(work, 'processor.json');
  ProcessorProcess.writeConfig(configFile, { brokers: [broker.bootstrap], clickhouseUrl: CH_URL, database, group, partitions: PARTITIONS });
  proc = new ProcessorProcess(configFile, join(work, 'processor.log'));
  await Promise.race([
    proc.started,
    sleep(60_000).then(() => {
      throw new Error(`processor did not start:\n${proc!.tail()}`);
    }),
  ]);

  const brokerPid = pidOf(join(broker.dir, 'kafka.pid'));
  const chPid = pidOf(CLICKHOUSE_PID);
  const cpu0 = { proc: proc.cpuSeconds()!, broker: brokerPid ? cpuSecondsOf(brokerPid) : undefined, ch: chPid ? cpuSecondsOf(chPid) : undefined, self: process.cpuUsage() };
  const t0 = performance.now();
  for (let i = 0; i < batches.length; i += 4) await bus.publish(TOPICS.flows, batches.slice(i, i + 4).flat());
  const publishSecs = (performance.now() - t0) / 1000;
  const selfCpu = process.cpuUsage(cpu0.self);
  const ends = new Map((await admin.fetchTopicOffsets(TOPICS.flows)).map((p) => [p.partition, Number(p.high)]));
  for (;;) {
    if (!proc.running) throw new Error(`processor exited:\n${proc.tail()}`);
    const committed = (await admin.fetchOffsets({ groupId: group, topics: [TOPICS.flows] }))[0].partitions;
    if (committed.every((p) => Number(p.offset) >= ends.get(p.partition)!)) break;
    await sleep(100);
  }
  const secs = (performance.now() - t0) / 1000;
  const cpu = {
    proc: proc.cpuSeconds()! - cpu0.proc,
    broker: brokerPid && cpu0.broker !== undefined ? cpuSecondsOf(brokerPid)! - cpu0.broker : undefined,
    ch: chPid && cpu0.ch !== undefined ? cpuSecondsOf(chPid)! - cpu0.ch : undefined,
    self: (selfCpu.user + selfCpu.system) / 1e6,
  };
  const [stored] = await chQuery<{ n: number; bytes: number }>(
    CH_URL,
    database,
    'SELECT count() AS n, sum(ifNull(bytes_orig, 0) + ifNull(bytes_reply, 0)) AS bytes FROM flows FINAL',
  );
  const perM = (s: number | undefined) => (s === undefined ? 'n/a' : `${(s / (FLOWS / 1e6)).toFixed(1)} s`);
  out(
    `scaleout (producer -> Kafka ${PARTITIONS} partitions -> processor process -> ClickHouse): ${FLOWS.toLocaleString('en')} flows in ${secs.toFixed(2)} s ` +
      `= ${Math.round(FLOWS / secs).toLocaleString('en')} flows/s end to end (publishing alone took ${publishSecs.toFixed(2)} s = ${Math.round(FLOWS / publishSecs).toLocaleString('en')} flows/s)`,
  );
  out(
    `  CPU per million flows: processor process ${perM(cpu.proc)} (/proc/${proc.pid}/stat utime+stime); ` +
      `Kafka broker ${perM(cpu.broker)}; ClickHouse endpoint ${perM(cpu.ch)} (both /proc); producer ${perM(cpu.self)} (process.cpuUsage)`,
  );
  out(
    `  stored: ${stored.n} flows, ${stored.bytes} bytes (expected ${expected.flows}, ${expected.bytes})` +
      (Number(stored.n) === expected.flows && Number(stored.bytes) === expected.bytes ? '' : '  MISMATCH'),
  );
} finally {
  if (proc) await proc.kill('SIGTERM');
  await admin.disconnect().catch(() => undefined);
  await bus.stop().catch(() => undefined);
  await broker.destroy().catch(() => undefined);
  await chQuery(CH_URL, 'default', `DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
  if (startedClickHouse) execFileSync('bash', [CLICKHOUSE_SH, 'stop'], { stdio: 'inherit' });
  rmSync(work, { recursive: true, force: true });
}
