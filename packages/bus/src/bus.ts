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
} as const;
export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];

/** One message. `value: null` is a tombstone (removes a key on a compacted topic). */
export interface BusMessage<T = unknown> {
  key: string;
  value: T | null;
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
  subscribe<T>(topic: string, opts: SubscribeOptions, handler: (batch: BusBatch<T>) => Promise<void>): Promise<void>;
}
