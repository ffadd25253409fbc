/**
 * Kafka adapter of the Bus port (ARCHITECTURE.md, "Topics"), on kafkajs 2.x.
 *
 * Wire format: key = the message key (UTF-8), value = `JSON.stringify(value)` (UTF-8), a
 * `null` value is a Kafka tombstone. Floe's records carry their own `schema` field
 * (FlowRecord, Finding, Decision: `schema: 1`) and topic names carry the version
 * (`floe.flows.v1`); every message also gets the header `floe-encoding: json`.
 *
 * Guarantees: publish resolves after the broker acknowledged every message with acks=all
 * (-1) from an idempotent producer; a consumer group commits a partition's offset only after
 * the handler of that batch resolved, so a rejected handler (or a crash) gets the same
 * messages again (at-least-once). Topics are created with the configured partitions and
 * replication factor; compacted topics get `cleanup.policy=compact`.
 */
import { noopLogger, type Logger } from '@floe/telemetry/lite';
import kafkajs from 'kafkajs';
import type { Admin, Assigner, Consumer, EachBatchPayload, ITopicConfig, Kafka as KafkaClient, LogEntry, PartitionAssigner, Producer } from 'kafkajs';
import type { Bus, BusBatch, BusMessage, SubscribeOptions, Subscription as BusSubscription } from './bus.js';
import { TOPICS } from './bus.js';
import { undecodableDeadLetter } from './deadletter.js';
import { BUS_ERROR_CODES, BusError } from './errors.js';
import { createBusMetrics, type BusDeps, type BusMetrics } from './metrics.js';

const { Kafka, logLevel, CompressionTypes, Partitioners, AssignerProtocol } = kafkajs;

/** Options of the Kafka bus. Everything but `brokers` has a default (`KAFKA_BUS_DEFAULTS`). */
export interface KafkaBusOptions {
  /** Bootstrap brokers, `host:port` (e.g. `['127.0.0.1:19092']`). */
  brokers: string[];
  /** Kafka client id. Default `floe`. */
  clientId?: string;
  /** Partitions of each topic this bus creates. Default 6. */
  partitions?: number;
  /** Replication factor of each topic this bus creates. Default 1 (a single broker). */
  replicationFactor?: number;
  /** Producer batch compression. Default `gzip`. */
  compression?: 'gzip' | 'none';
  /** Topics created (or checked) by `start()`. Default the three floe topics (`TOPICS`). */
  topics?: string[];
  /** Topics created with `cleanup.policy=compact`. Default `[floe.decisions.v1]`. */
  compactedTopics?: string[];
  /**
   * Prepended to every topic name on the wire (`staging.` makes `floe.flows.v1` the Kafka topic
   * `staging.floe.flows.v1`), so deployments or test runs sharing one cluster cannot see each
   * other's messages. Callers keep using the logical names (`TOPICS`, `topics`,
   * `compactedTopics`, `topicConfig`), and batches report the logical name. Consumer group ids
   * are not prefixed. Default '' (none). Kafka topic names allow `[a-zA-Z0-9._-]` (249 chars).
   */
  topicPrefix?: string;
  /** Consumer group session timeout (ms). Default 30 000. */
  sessionTimeoutMs?: number;
  /** Consumer heartbeat interval (ms). Default 3000. */
  heartbeatIntervalMs?: number;
  /** Longest a fetch waits for data (ms); also bounds how long `stop()` waits for a fetch. Default 500. */
  maxWaitTimeMs?: number;
  /** Partitions whose batches one subscription handles at the same time. Default 1. */
  partitionsConsumedConcurrently?: number;
  /** First delay before a rejected batch is fetched and delivered again (ms); grows per retry. Default 100. */
  retryBackoffMs?: number;
  /** Upper bound of that delay (ms). Default 5000. */
  maxRetryBackoffMs?: number;
  /** TCP connect timeout (ms). Default 3000. */
  connectionTimeoutMs?: number;
  /** Request timeout (ms). Default 30 000. */
  requestTimeoutMs?: number;
  /** Longest `subscribe()` waits for the consumer to join its group (ms). Default 30 000. */
  joinTimeoutMs?: number;
  /**
   * How often the committed offsets of this bus's groups are compared with the partitions' end
   * offsets for `floe_bus_consumer_lag` (ms; admin requests, for the partitions assigned to this
   * process). 0 turns the sampling off (the gauge is still set from each fetched batch). Default 10 000.
   */
  lagSampleMs?: number;
  /**
   * Restarts of a crashed consumer (kafkajs retries a failing batch or fetch 5 times, then the
   * consumer crashes) in a row without a batch committed in between, before the subscription
   * is given up and its `onDeath` called. Default 10. A non-retriable crash is never restarted.
   */
  consumerRestarts?: number;
}

/** Defaults of KafkaBusOptions. */
export const KAFKA_BUS_DEFAULTS = Object.freeze({
  clientId: 'floe',
  partitions: 6,
  replicationFactor: 1,
  compression: 'gzip' as 'gzip' | 'none',
  topics: Object.freeze(Object.values(TOPICS)) as readonly string[],
  compactedTopics: Object.freeze([TOPICS.decisions]) as readonly string[],
  topicPrefix: '',
  sessionTimeoutMs: 30_000,
  heartbeatIntervalMs: 3000,
  maxWaitTimeMs: 500,
  partitionsConsumedConcurrently: 1,
  retryBackoffMs: 100,
  maxRetryBackoffMs: 5000,
  connectionTimeoutMs: 3000,
  requestTimeoutMs: 30_000,
  joinTimeoutMs: 30_000,
  lagSampleMs: 10_000,
  consumerRestarts: 10,
});

/** Counters of a Kafka bus (messages unless stated). */
export interface KafkaBusStats {
  /** Messages acknowledged by the broker after publish. */
  published: number;
  /** Messages whose batch handler resolved and whose offset was committed. */
  delivered: number;
  /** Handler rejections (each one leads to a redelivery of that batch). */
  handlerErrors: number;
  /** Messages whose value was not valid JSON (handed to onUndecodable or dead-lettered, offset committed). */
  undecodable: number;
}

/** The Kafka Bus, with counters for tests and metrics. */
export interface KafkaBus extends Bus {
  stats(): KafkaBusStats;
  /** Samples `floe_bus_consumer_lag` now (also done every `lagSampleMs`); never rejects. */
  sampleLag(): Promise<void>;
  /**
   * One configuration value of an existing topic (e.g. `cleanup.policy`), or undefined.
   * @throws BusError FLOE_BUS_NOT_STARTED before `start()`.
   */
  topicConfig(topic: string, name: string): Promise<string | undefined>;
}

/** kafkajs topic resource type for describeConfigs (Kafka ConfigResource.Type.TOPIC). */
const RESOURCE_TOPIC = 2;

/**
 * A round-robin assigner that only gives a member partitions of topics it subscribed to.
 * kafkajs's built-in round robin spreads the leader's topics over every member, which breaks
 * when one group subscribes to different topics from different consumers (one bus
 * subscribing a group to two topics, or processes of one group on different topics).
 */
const subscriptionRoundRobin: PartitionAssigner = ({ cluster }) => {
  const assigner: Assigner = {
    name: 'FloeSubscriptionRoundRobin',
    version: 0,
    async assign({ members, topics }) {
      const ids = members.map((m) => m.memberId).sort();
      const subscribed = new Map<string, Set<string>>();
      for (const m of members) {
        const meta = AssignerProtocol.MemberMetadata.decode(m.memberMetadata);
        subscribed.set(m.memberId, new Set(meta?.topics ?? []));
      }
      // kafkajs passes only the leader's own topics; assign the union of every member's.
      const all = new Set(topics);
      for (const set of subscribed.values()) for (const t of set) all.add(t);
      await cluster.addMultipleTargetTopics([...all]);
      const plan = new Map<string, Record<string, number[]>>(ids.map((id) => [id, {}]));
      for (const topic of [...all].sort()) {
        const eligible = ids.filter((id) => subscribed.get(id)?.has(topic));
        if (eligible.length === 0) continue;
        const partitions = cluster
          .findTopicPartitionMetadata(topic)
          .map((p) => p.partitionId)
          .sort((a, b) => a - b);
        partitions.forEach((p, i) => {
          const target = plan.get(eligible[i % eligible.length])!;
          (target[topic] ??= []).push(p);
        });
      }
      return ids.map((memberId) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 0,
          assignment: plan.get(memberId)!,
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return {
        name: assigner.name,
        metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }),
      };
    },
  };
  return assigner;
};

/** Routes kafkajs's log entries to the bus's logger (its `namespace` names the kafkajs part). */
function logCreatorFor(logger: Logger) {
  return () =>
    ({ namespace, level, log }: LogEntry): void => {
      const { message, timestamp: _ts, logger: _l, ...extra } = log;
      const obj = { namespace, ...extra };
      if (level === logLevel.ERROR) logger.error(obj, message);
      else if (level === logLevel.WARN) logger.warn(obj, message);
      else if (level === logLevel.INFO) logger.info(obj, message);
      else logger.debug(obj, message);
    };
}

interface Subscription {
  group: string;
  topic: string;
  consumer: Consumer;
  /** Partitions of `topic` assigned to this consumer at the last group join. */
  assigned: number[];
  /** Crashes restarted since the last committed batch. */
  restarts: number;
  /** Closed, or dead (crashed for good). */
  ended: boolean;
}

type State = 'new' | 'started' | 'stopped';

class KafkaBusImpl implements KafkaBus {
  readonly name = 'kafka';
  private readonly o: Required<KafkaBusOptions>;
  private readonly log: Logger;
  private readonly m: BusMetrics;
  private lagTimer: NodeJS.Timeout | undefined;
  private lagSampling: Promise<void> | undefined;
  private readonly compacted: Set<string>;
  private state: State = 'new';
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private kafka: KafkaClient | undefined;
  private admin: Admin | undefined;
  private producer: Producer | undefined;
  private readonly ensured = new Map<string, Promise<void>>();
  private readonly subs: Subscription[] = [];
  private readonly counters: KafkaBusStats = { published: 0, delivered: 0, handlerErrors: 0, undecodable: 0 };

  constructor(opts: KafkaBusOptions, deps: BusDeps = {}) {
    if (!Array.isArray(opts?.brokers) || opts.brokers.length === 0 || opts.brokers.some((b) => typeof b !== 'string' || !b)) {
      throw new BusError(BUS_ERROR_CODES.BAD_ARGUMENT, 'kafka bus: `brokers` must be a non-empty list of "host:port" strings');
    }
    const o = { ...KAFKA_BUS_DEFAULTS, ...stripUndefined(opts) } as Required<KafkaBusOptions>;
    if (!Number.isInteger(o.consumerRestarts) || o.consumerRestarts < 0) {
      throw new BusError(BUS_ERROR_CODES.BAD_ARGUMENT, `kafka bus: \`consumerRestarts\` must be an integer >= 0, got ${String(o.consumerRestarts)}`);
    }
    for (const k of ['partitions', 'replicationFactor', 'partitionsConsumedConcurrently'] as const) {
      if (!Number.isInteger(o[k]) || o[k] < 1) {
        throw new BusError(BUS_ERROR_CODES.BAD_ARGUMENT, `kafka bus: \`${k}\` must be an integer >= 1, got ${String(o[k])}`);
      }
    }
    if (!Number.isInteger(o.lagSampleMs) || o.lagSampleMs < 0) {
      throw new BusError(BUS_ERROR_CODES.BAD_ARGUMENT, `kafka bus: \`lagSampleMs\` must be an integer >= 0, got ${String(o.lagSampleMs)}`);
    }
    if (typeof o.topicPrefix !== 'string' || !/^[a-zA-Z0-9._-]*$/.test(o.topicPrefix)) {
      throw new BusError(BUS_ERROR_CODES.BAD_ARGUMENT, `kafka bus: \`topicPrefix\` may only hold [a-zA-Z0-9._-], got ${JSON.stringify(o.topicPrefix)}`);
    }
    if (o.compression !== 'gzip' && o.compression !== 'none') {
      throw new BusError(BUS_ERROR_CODES.BAD_ARGUMENT, `kafka bus: \`compression\` must be "gzip" or "none", got ${JSON.stringify(o.compression)}`);
    }
    this.o = o;
    this.log = (deps.logger ?? noopLogger).child({ component: 'bus', adapter: 'kafka' });
    this.m = createBusMetrics(deps.metrics);
    this.compacted = new Set(o.compactedTopics);
  }

  /** The Kafka topic of a logical topic name (with `topicPrefix`). */
  private wire(topic: string): string {
    return this.o.topicPrefix + topic;
  }

  /** The logical name of a Kafka topic this bus reads (without `topicPrefix`). */
  private logical(wireTopic: string): string {
    const p = this.o.topicPrefix;
    return p && wireTopic.startsWith(p) ? wireTopic.slice(p.length) : wireTopic;
  }

  stats(): KafkaBusStats {
    return { ...this.counters };
  }

  start(): Promise<void> {
    if (this.state === 'stopped') {
      return Promise.reject(new BusError(BUS_ERROR_CODES.STOPPED, 'kafka bus: start() after stop()'));
    }
    this.starting ??= this.doStart();
    return this.starting;
  }

  private async doStart(): Promise<void> {
    const o = this.o;
    const kafka = new Kafka({
      clientId: o.clientId,
      brokers: o.brokers,
      connectionTimeout: o.connectionTimeoutMs,
      requestTimeout: o.requestTimeoutMs,
      logLevel: logLevel.INFO,
      logCreator: logCreatorFor(this.log),
      retry: { initialRetryTime: o.retryBackoffMs, maxRetryTime: o.maxRetryBackoffMs, retries: 8 },
    });
    this.kafka = kafka;
    this.admin = kafka.admin();
    // Idempotent: the broker de-duplicates producer retries by sequence number; kafkajs
    // requires acks=-1 and keeps at most one request in flight for ordering.
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      // Retriable failures (broker restart, leader change) are retried until they succeed:
      // publish blocks instead of losing messages. Non-retriable ones reject at once.
      retry: { initialRetryTime: o.retryBackoffMs, maxRetryTime: o.maxRetryBackoffMs, retries: Number.MAX_SAFE_INTEGER },
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    try {
      await this.admin.connect();
      await Promise.all(o.topics.map((t) => this.ensureTopic(t)));
      await this.producer.connect();
    } catch (err) {
      await Promise.allSettled([this.producer.disconnect(), this.admin.disconnect()]);
      this.starting = undefined;
      this.ensured.clear();
      throw err;
    }
    this.state = 'started';
    this.log.info({ brokers: o.brokers, topics: o.topics.map((t) => this.wire(t)) }, 'kafka bus started');
  }

  /** Creates `topic` once per bus with the configured partitions and replication; checks compaction if it exists. */
  private ensureTopic(topic: string): Promise<void> {
    let p = this.ensured.get(topic);
    if (!p) {
      p = this.createTopic(topic);
      p.catch(() => this.ensured.delete(topic));
      this.ensured.set(topic, p);
    }
    return p;
  }

  private async createTopic(topic: string): Promise<void> {
    const admin = this.admin!;
    const compacted = this.compacted.has(topic);
    const spec: ITopicConfig = {
      topic: this.wire(topic),
      numPartitions: this.o.partitions,
      replicationFactor: this.o.replicationFactor,
      configEntries: compacted ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
    };
    let created: boolean;
    try {
      created = await admin.createTopics({ topics: [spec], waitForLeaders: true });
    } catch (err) {
      // KRaft: the controller created the topic, but the broker's metadata answer does not list
      // it yet; kafkajs's waitForLeaders retries LEADER_NOT_AVAILABLE only. Wait for its leaders.
      if ((err as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw err;
      await this.waitForLeaders(spec.topic);
      created = true;
    }
    if (created) {
      this.log.info({ topic: spec.topic, partitions: spec.numPartitions, compacted }, 'created topic');
      return;
    }
    if (compacted) {
      const policy = await this.topicConfig(topic, 'cleanup.policy');
      if (policy === undefined || !policy.split(',').includes('compact')) {
        this.log.warn({ topic: spec.topic, cleanupPolicy: policy }, 'existing topic should be compacted but is not');
      }
    }
  }

  /** Polls the metadata of a just-created wire topic until every partition has a leader (at most requestTimeoutMs). */
  private async waitForLeaders(wireTopic: string): Promise<void> {
    const end = Date.now() + this.o.requestTimeoutMs;
    for (;;) {
      try {
        const { topics } = await this.admin!.fetchTopicMetadata({ topics: [wireTopic] });
        const parts = topics[0]?.partitions ?? [];
        if (parts.length > 0 && parts.every((p) => p.leader >= 0)) return;
      } catch (err) {
        if ((err as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION' && (err as { type?: string }).type !== 'LEADER_NOT_AVAILABLE') throw err;
      }
      if (Date.now() > end) throw new Error(`kafka bus: topic ${wireTopic} has no leaders ${this.o.requestTimeoutMs} ms after it was created`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async topicConfig(topic: string, name: string): Promise<string | undefined> {
    if (!this.admin) throw new BusError(BUS_ERROR_CODES.NOT_STARTED, 'kafka bus: topicConfig() before start()');
    const res = await this.admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: RESOURCE_TOPIC, name: this.wire(topic), configNames: [name] }],
    });
    const entry = res.resources[0]?.configEntries.find((e) => e.configName === name);
    return entry?.configValue ?? undefined;
  }

  private checkUsable(op: string): void {
    if (this.state === 'stopped') throw new BusError(BUS_ERROR_CODES.STOPPED, `kafka bus: ${op} after stop()`);
    if (this.state !== 'started') throw new BusError(BUS_ERROR_CODES.NOT_STARTED, `kafka bus: ${op} before start()`);
  }

  async publish<T>(topic: string, messages: BusMessage<T>[]): Promise<void> {
    this.checkUsable('publish');
    checkTopic(topic);
    if (messages.length === 0) return;
    const wire = messages.map((m, i) => {
      if (typeof m?.key !== 'string') {
        throw new BusError(BUS_ERROR_CODES.BAD_ARGUMENT, `kafka bus: message ${i} to ${topic} has a non-string key`);
      }
      let value: string | null = null;
      if (m.value !== null) {
        const s = JSON.stringify(m.value) as string | undefined;
        if (s === undefined) {
          throw new BusError(BUS_ERROR_CODES.BAD_ARGUMENT, `kafka bus: message ${i} to ${topic} has a value that is not JSON-serialisable`);
        }
        value = s;
      }
      return { key: m.key, value, headers: { 'floe-encoding': 'json' } };
    });
    await this.ensureTopic(topic);
    await this.producer!.send({
      topic: this.wire(topic),
      acks: -1,
      compression: this.o.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
      messages: wire,
    });
    this.counters.published += wire.length;
    this.m.published.inc({ topic }, wire.length);
  }

  async subscribe<T>(topic: string, opts: SubscribeOptions, handler: (batch: BusBatch<T>) => Promise<void>): Promise<BusSubscription> {
    this.checkUsable('subscribe');
    checkTopic(topic);
    const group = opts?.group;
    if (typeof group !== 'string' || group === '') {
      throw new BusError(BUS_ERROR_CODES.BAD_ARGUMENT, 'kafka bus: subscribe needs a non-empty `group`');
    }
    if (this.subs.some((s) => s.group === group && s.topic === topic)) {
      throw new BusError(BUS_ERROR_CODES.DUPLICATE_GROUP, `kafka bus: group ${group} already subscribed to ${topic} on this bus`);
    }
    const fromBeginning = opts.fromBeginning === true;
    await this.ensureTopic(topic);
    const startAt = fromBeginning ? [] : await this.endsWithoutCommit(group, topic);

    const o = this.o;
    const consumer = this.kafka!.consumer({
      groupId: group,
      sessionTimeout: o.sessionTimeoutMs,
      heartbeatInterval: o.heartbeatIntervalMs,
      maxWaitTimeInMs: o.maxWaitTimeMs,
      partitionAssigners: [subscriptionRoundRobin],
      retry: {
        initialRetryTime: o.retryBackoffMs,
        maxRetryTime: o.maxRetryBackoffMs,
        retries: 5,
        // Asked only for retriable crashes; the budget resets when a batch is committed.
        restartOnFailure: async () => !sub.ended && ++sub.restarts <= o.consumerRestarts,
      },
    });
    const sub: Subscription = { group, topic, consumer, assigned: [], restarts: 0, ended: false };
    this.subs.push(sub);
    consumer.on(consumer.events.GROUP_JOIN, (e) => this.onAssigned(sub, e.payload.memberAssignment[this.wire(topic)] ?? []));
    consumer.on(consumer.events.CRASH, (e) => {
      const { error, restart } = e.payload;
      const obj = { group, topic, err: error, restart, restarts: sub.restarts };
      if (restart) {
        this.log.warn(obj, 'consumer crashed; restarting');
        return;
      }
      if (sub.ended) return;
      sub.ended = true;
      this.log.error(obj, 'consumer crashed and will not restart');
      const i = this.subs.indexOf(sub);
      if (i >= 0) this.subs.splice(i, 1);
      opts.onDeath?.(new Error(`kafka bus: consumer of group ${group} on ${topic} crashed and will not restart: ${error?.message ?? String(error)}`, { cause: error }));
    });
    const joined = new Promise<number[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`kafka bus: group ${group} did not join within ${o.joinTimeoutMs} ms (topic ${topic})`)), o.joinTimeoutMs);
      const off = consumer.on(consumer.events.GROUP_JOIN, (e) => {
        clearTimeout(timer);
        off();
        resolve(e.payload.memberAssignment[this.wire(topic)] ?? []);
      });
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: this.wire(topic), fromBeginning });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: o.partitionsConsumedConcurrently,
        eachBatch: (payload) => this.onBatch(payload, handler, sub, opts),
      });
      const assigned = await joined;
      // Applied before the next fetch.
      for (const { partition, offset } of startAt) consumer.seek({ topic: this.wire(topic), partition, offset });
      // Commit that start for this member's partitions that have no committed offset yet, so a
      // consumer that dies before its first handler resolved restarts there, not at a later end
      // (which would skip what was published in between: lost, not redelivered).
      const mine = startAt.filter((p) => assigned.includes(p.partition));
      if (mine.length) await consumer.commitOffsets(mine.map((p) => ({ topic: this.wire(topic), partition: p.partition, offset: p.offset })));
      if (o.lagSampleMs > 0) this.lagTimer ??= setInterval(() => void this.sampleLag(), o.lagSampleMs).unref();
    } catch (err) {
      sub.ended = true;
      this.subs.splice(this.subs.indexOf(sub), 1);
      await consumer.disconnect().catch(() => undefined);
      throw err;
    }
    let closing: Promise<void> | undefined;
    return {
      close: () => {
        closing ??= (async () => {
          sub.ended = true;
          // disconnect() waits for the in-flight batch and its commit, then leaves the group.
          await withTimeout(consumer.disconnect(), o.sessionTimeoutMs + o.requestTimeoutMs, `consumer ${group}/${topic} disconnect`);
          const i = this.subs.indexOf(sub);
          if (i >= 0) this.subs.splice(i, 1);
        })();
        return closing;
      },
    };
  }

  /**
   * End offsets of the partitions of `topic` where `group` has no committed offset yet: where a
   * subscription without `fromBeginning` starts, so it sees exactly what is published after
   * `subscribe()` resolved. (kafkajs's own "latest" is resolved at the first fetch, later.)
   */
  private async endsWithoutCommit(group: string, topic: string): Promise<{ partition: number; offset: string }[]> {
    const admin = this.admin!;
    const wireTopic = this.wire(topic);
    // On a broker that just started, the group coordinator (the __consumer_offsets topic) may
    // not be ready yet: NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS (retriable), which kafkajs's
    // fetchOffsets does not retry. Retry them here for up to joinTimeoutMs.
    const until = Date.now() + this.o.joinTimeoutMs;
    let committed: Awaited<ReturnType<Admin['fetchOffsets']>>;
    for (let delay = this.o.retryBackoffMs; ; delay = Math.min(delay * 2, this.o.maxRetryBackoffMs)) {
      try {
        committed = await admin.fetchOffsets({ groupId: group, topics: [wireTopic] });
        break;
      } catch (err) {
        if ((err as { retriable?: boolean }).retriable !== true || Date.now() + delay > until) throw err;
        this.log.debug({ group, err }, 'fetching committed offsets failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    const missing = new Set((committed.find((t) => t.topic === wireTopic)?.partitions ?? []).filter((p) => Number(p.offset) < 0).map((p) => p.partition));
    if (missing.size === 0) return [];
    const ends = await admin.fetchTopicOffsets(wireTopic);
    return ends.filter((e) => missing.has(e.partition)).map((e) => ({ partition: e.partition, offset: e.high }));
  }

  /**
   * The consumer error policy for a message whose value is not JSON: the subscriber's
   * onUndecodable, else a DeadLetter (reason `undecodable`, original bytes) on floe.deadletter.v1.
   * Either way its offset is committed with the batch; a failure here rejects the batch.
   */
  private async undecodable(
    opts: SubscribeOptions,
    group: string,
    m: { topic: string; partition: number; offset: string; key: string; raw: Buffer; error: string },
  ): Promise<void> {
    this.counters.undecodable++;
    this.log.warn({ group, topic: m.topic, partition: m.partition, offset: m.offset, err: m.error }, 'a message whose value is not JSON goes to the dead-letter path');
    if (opts.onUndecodable) return opts.onUndecodable(m);
    const dl = undecodableDeadLetter(m, group, 'bus-decode', Date.now());
    await this.publish(TOPICS.deadletter, [{ key: m.key, value: dl }]);
  }

  private async onBatch<T>(
    { batch, resolveOffset, commitOffsetsIfNecessary, heartbeat, isRunning, isStale }: EachBatchPayload,
    handler: (batch: BusBatch<T>) => Promise<void>,
    sub: Subscription,
    opts: SubscribeOptions,
  ): Promise<void> {
    const group = sub.group;
    if (!isRunning() || isStale() || batch.isEmpty()) return;
    this.setLag(group, batch.topic, batch.partition, BigInt(batch.highWatermark) - BigInt(batch.firstOffset() ?? batch.highWatermark));
    const messages: BusMessage<T>[] = [];
    const topic = this.logical(batch.topic);
    for (const m of batch.messages) {
      const key = m.key === null ? '' : m.key.toString('utf8');
      if (m.value === null) {
        messages.push({ key, value: null, offset: m.offset });
        continue;
      }
      let value: T;
      try {
        value = JSON.parse(m.value.toString('utf8')) as T;
      } catch (err) {
        this.m.undecodable.inc({ topic });
        await this.undecodable(opts, group, { topic, partition: batch.partition, offset: m.offset, key, raw: m.value, error: (err as Error).message });
        continue;
      }
      messages.push({ key, value, offset: m.offset, raw: m.value });
    }
    if (messages.length > 0) {
      try {
        await handler({ topic, partition: batch.partition, messages });
      } catch (err) {
        this.counters.handlerErrors++;
        this.m.handlerErrors.inc({ topic: this.logical(batch.topic) });
        this.log.warn({ group, topic: batch.topic, partition: batch.partition, firstOffset: batch.firstOffset(), err }, 'handler rejected a batch; it will be delivered again');
        throw err;
      }
    }
    const last = batch.lastOffset();
    resolveOffset(last);
    // Passing offsets commits them now, whatever autoCommit says (the next offset to read).
    await commitOffsetsIfNecessary({
      topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: (BigInt(last) + 1n).toString() }] }],
    });
    this.counters.delivered += messages.length;
    this.m.consumed.inc({ topic: this.logical(batch.topic) }, messages.length);
    this.setLag(group, batch.topic, batch.partition, BigInt(batch.highWatermark) - (BigInt(last) + 1n));
    sub.restarts = 0;
    await heartbeat();
  }

  /** Sets floe_bus_consumer_lag of `group` on a partition of a wire topic (never below 0). */
  private setLag(group: string, wireTopic: string, partition: number, lag: bigint): void {
    this.m.lag.set({ topic: this.logical(wireTopic), partition: String(partition), group }, Number(lag > 0n ? lag : 0n));
  }

  /** A new assignment of `sub`: partitions it no longer holds leave the lag gauge. */
  private onAssigned(sub: Subscription, partitions: number[]): void {
    for (const p of sub.assigned) {
      if (!partitions.includes(p)) this.m.lag.remove({ topic: sub.topic, partition: String(p), group: sub.group });
    }
    sub.assigned = [...partitions];
  }

  /**
   * Samples `floe_bus_consumer_lag` now: for each subscription of this bus, the end offset (high
   * watermark) minus the group's committed offset of every partition assigned to it (a partition
   * without a committed offset counts from its low watermark). Runs every `lagSampleMs`; a
   * failed sample is logged at debug level and left for the next one. Never rejects.
   */
  sampleLag(): Promise<void> {
    if (this.state !== 'started' || !this.admin) return Promise.resolve();
    this.lagSampling ??= (async () => {
      for (const sub of [...this.subs]) {
        if (this.state !== 'started') break; // stopping: the next subscription is not sampled
        if (sub.assigned.length === 0) continue;
        const wireTopic = this.wire(sub.topic);
        try {
          const [ends, committed] = await Promise.all([this.admin!.fetchTopicOffsets(wireTopic), this.admin!.fetchOffsets({ groupId: sub.group, topics: [wireTopic] })]);
          const done = new Map((committed.find((t) => t.topic === wireTopic)?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
          for (const e of ends) {
            if (!sub.assigned.includes(e.partition)) continue;
            const at = done.get(e.partition) ?? -1n;
            this.setLag(sub.group, wireTopic, e.partition, BigInt(e.high) - (at < 0n ? BigInt(e.low) : at));
          }
        } catch (err) {
          this.log.debug({ group: sub.group, topic: sub.topic, err }, 'consumer lag sample failed');
        }
      }
    })().finally(() => {
      this.lagSampling = undefined;
    });
    return this.lagSampling;
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const wasStarting = this.starting;
    this.state = 'stopped';
    clearInterval(this.lagTimer);
    // A lag sample in flight is a metric: with the broker gone its admin requests retry for
    // many seconds per subscription (kafkajs), which would outlast a shutdown deadline once a
    // process has several consumers. It stops at its next subscription (state is `stopped`);
    // stop() waits for it at most LAG_SAMPLE_STOP_WAIT_MS, and the admin disconnect below ends the rest.
    if (this.lagSampling) await Promise.race([this.lagSampling, new Promise((r) => setTimeout(r, LAG_SAMPLE_STOP_WAIT_MS).unref())]);
    if (wasStarting) await wasStarting.catch(() => undefined);
    this.state = 'stopped';
    // Consumers first: each waits for its in-flight handler and commit.
    for (const s of this.subs) s.ended = true;
    const limit = this.o.sessionTimeoutMs + this.o.requestTimeoutMs;
    const results = await Promise.allSettled(this.subs.map((s) => withTimeout(s.consumer.disconnect(), limit, `consumer ${s.group}/${s.topic} disconnect`)));
    results.push(
      ...(await Promise.allSettled([
        this.producer && withTimeout(this.producer.disconnect(), limit, 'producer disconnect'),
        this.admin && withTimeout(this.admin.disconnect(), limit, 'admin disconnect'),
      ])),
    );
    for (const r of results) {
      if (r.status === 'rejected') this.log.warn({ err: r.reason }, 'error while disconnecting');
    }
    for (const s of this.subs) this.onAssigned(s, []);
    this.subs.length = 0;
    if (wasStarting) this.log.info('kafka bus stopped');
  }
}

/** Longest `stop()` waits for a consumer-lag sample in flight (ms). */
const LAG_SAMPLE_STOP_WAIT_MS = 1000;

/** Rejects after `ms` so a stuck disconnect cannot hang `stop()` forever. */
function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`kafka bus: ${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

function checkTopic(topic: string): void {
  if (typeof topic !== 'string' || topic === '') throw new BusError(BUS_ERROR_CODES.BAD_ARGUMENT, 'kafka bus: topic must be a non-empty string');
}

function stripUndefined<O extends object>(o: O): Partial<O> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<O>;
}

/**
 * Creates the Kafka bus (inert: no I/O until `start()`).
 *
 * `start()` connects, creates `topics` (partitions, replication; `cleanup.policy=compact` for
 * `compactedTopics`) and an idempotent producer. Other topics are created on first use.
 * `publish` resolves after acks from all in-sync replicas. `subscribe` resolves once the
 * consumer joined its group; offsets are committed only after the handler resolved.
 * `stop()` waits for in-flight handlers, disconnects everything, is final and safe twice.
 *
 * Logs through a child of `deps.logger` (`{ component: 'bus', adapter: 'kafka' }`, kafkajs's
 * own lines included) and counts in the `floe_bus_*` metrics on `deps.metrics` (metrics.ts).
 *
 * @throws BusError FLOE_BUS_BAD_ARGUMENT for empty `brokers` or bad numbers; later calls throw
 *   FLOE_BUS_NOT_STARTED / FLOE_BUS_STOPPED, and kafkajs errors (KafkaJSError) for broker failures.
 */
export function createKafkaBus(opts: KafkaBusOptions, deps: BusDeps = {}): KafkaBus {
  return new KafkaBusImpl(opts, deps);
}
