/**
 * Bus port: topics of keyed messages between roles (ARCHITECTURE.md, "Topics").
 * Adapters: in-process (`memory.ts`, the embedded default) and Kafka (`kafka.ts`, later).
 * Values are JSON-serialisable; adapters own the encoding on the wire.
 */
export const TOPICS = {
  flows: 'floe.flows.v1',
  findings: 'floe.findings.v1',
  decisions: 'floe.decisions.v1',
  /** DataGap v1 records (@floe/flow gap.ts): input a collector knows it missed (ENOBUFS, a silent source, rejected lines). */
  gaps: 'floe.gaps.v1',
  /** Messages and records a consumer could not handle (DeadLetter values, deadletter.ts). */
  deadletter: 'floe.deadletter.v1',
} as const;
export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];

/** One message. `value: null` is a tombstone (removes a key on a compacted topic). */
export interface BusMessage<T = unknown> {
  key: string;
  value: T | null;
  /** Position in its partition as a decimal string, set on delivered messages (Kafka offset, memory bus offset). */
  offset?: string;
  /** The value's bytes as they were on the wire, set on delivered messages by adapters that have them (Kafka). */
  raw?: Uint8Array;
}

/** A delivered message whose value the adapter could not decode (not JSON), with its original bytes. */
export interface UndecodableMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  raw: Uint8Array;
  /** Why decoding failed (the parser's message). */
  error: string;
}

/** A subscription; `close()` stops delivery, waits for the in-flight batch and its commit, and is safe twice. */
export interface Subscription {
  close(): Promise<void>;
}

/** A batch handed to a consumer; the adapter commits its offset only after the handler resolves. */
export interface BusBatch<T = unknown> {
  topic: string;
  partition: number;
  messages: BusMessage<T>[];
}

export interface SubscribeOptions {
  /** Consumer group id: each group sees every message once (at-least-once). */
  group: string;
  /** Read from the beginning of the topic (a starting enforcer rebuilding its set). Default false. */
  fromBeginning?: boolean;
  /**
   * Receives each message whose value cannot be decoded, with its original bytes, before the
   * batch's other messages reach the handler; its offset is committed with the batch once this
   * resolves (a rejection leaves the batch uncommitted). Without it the adapter publishes a
   * DeadLetter (reason `undecodable`) on `floe.deadletter.v1` itself. Undecodable messages never
   * reach `handler`.
   */
  onUndecodable?: (m: UndecodableMessage) => Promise<void>;
  /**
   * Called once when this subscription stops for good without `close()`: the Kafka consumer
   * crashed and will not restart (a non-retriable error, or `consumerRestarts` spent), or the
   * memory bus gave up on a batch after `maxDeliveryAttempts`. Nothing more is delivered; the
   * owner should report itself unhealthy and stop the process.
   */
  onDeath?: (err: Error) => void;
}

/** The Bus port. `start` connects, `stop` drains and closes; both safe to call twice. */
export interface Bus {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves once every message is acknowledged by the bus. */
  publish<T>(topic: string, messages: BusMessage<T>[]): Promise<void>;
  /**
   * Delivers batches to `handler` in order per partition. A rejected handler leaves the
   * batch uncommitted and it is delivered again (the adapter retries / rebalances).
   */
  subscribe<T>(topic: string, opts: SubscribeOptions, handler: (batch: BusBatch<T>) => Promise<void>): Promise<Subscription>;
}
