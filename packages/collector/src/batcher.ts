import type { FlowRecord } from '@floe/flow';
import { TOPICS, type Bus, type BusMessage } from '@floe/bus';

/**
 * Groups flows into bus messages keyed by source address (so every flow of one source lands on
 * one partition, ARCHITECTURE.md "Topics"), one message per source per flush, value = the
 * source's FlowRecord[]. Flushes at `batchSize` flows or after `flushMs`, whichever is first.
 * `add` returns a promise only when it had to flush (backpressure for the reader); after a
 * failed publish it throws that error, and a failed timer flush goes to `onTimerError`.
 */
export class FlowBatcher {
  private pending: FlowRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<void> = Promise.resolve();
  private failed: Error | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly batchSize: number,
    private readonly flushMs: number,
    private readonly onPublished: (flows: number, messages: number) => void,
    /** A publish started by the flush timer failed (nobody awaits it): the collector fails. */
    private readonly onTimerError: (e: Error) => void,
  ) {}

  add(flow: FlowRecord): Promise<void> | undefined {
    if (this.failed) throw this.failed;
    this.pending.push(flow);
    if (this.pending.length >= this.batchSize) return this.flush();
    this.timer ??= setTimeout(() => {
      this.flush().catch(this.onTimerError);
    }, this.flushMs);
    return undefined;
  }

  /** Publishes what is pending; resolves once the bus acknowledged it and everything before it. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const flows = this.pending;
    this.pending = [];
    if (flows.length > 0) {
      const bySrc = new Map<string, FlowRecord[]>();
      for (const f of flows) {
        const list = bySrc.get(f.srcAddr);
        if (list) list.push(f);
        else bySrc.set(f.srcAddr, [f]);
      }
      const messages: BusMessage<FlowRecord[]>[] = [];
      for (const [key, value] of bySrc) messages.push({ key, value });
      this.inflight = this.inflight
        .then(async () => {
          await this.bus.publish(TOPICS.flows, messages);
          this.onPublished(flows.length, messages.length);
        })
        .catch((e: Error) => {
          this.failed = e;
          throw e;
        });
    }
    return this.inflight;
  }
}
