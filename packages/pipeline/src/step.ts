import type { Decision, Finding, FlowRecord } from '@floe/flow';
import type { BusBatch, BusMessage, DeadLetter, DeadLetterReason } from '@floe/bus';
import type { ResponseOutcome } from '@floe/respond';

/**
 * What a step returns (the runner acts on it):
 * - `ok`: go on with the next step (records the step could not handle were dead-lettered one by one);
 * - `retry`: a retriable dependency error (store or bus unavailable, a timeout): the runner
 *   retries the step with backoff, then rethrows so the batch stays uncommitted and is redelivered;
 * - `dead-letter`: the step cannot handle the batch's content at all: every live record of the
 *   batch is dead-lettered with `reason`, and the batch is committed.
 */
export type StepResult = { kind: 'ok' } | { kind: 'retry'; error: Error } | { kind: 'dead-letter'; reason: DeadLetterReason; error: Error };

/** One decoded record of the batch and where it came from. */
export interface BatchItem {
  /** The record as read (schema checked). */
  raw: FlowRecord;
  /** Its message, and its index in the message's array. */
  msg: BusMessage<unknown>;
  index: number;
  /** The classified flow (set by the policy step). */
  flow?: FlowRecord;
  /** Its findings (policy step, then detect step). */
  findings?: Finding[];
  /** Set when the record was dead-lettered: later steps skip it. */
  dead?: boolean;
}

/** The state of one batch as it goes through the steps. */
export interface BatchState {
  batch: BusBatch<unknown>;
  /** Records the batch's messages held (valid or not), counted by the decode step. */
  received: number;
  items: BatchItem[];
  /** Flows of the live items, after the detect step. */
  flows: FlowRecord[];
  /** Their items, parallel to `flows`. */
  flowItems: BatchItem[];
  findings: Finding[];
  /** Responder outcomes (computed once, kept across retries of the decide step). */
  outcomes?: Array<{ f: Finding; o: ResponseOutcome }>;
  /** Outcomes already stored by an earlier attempt of the decide step. */
  stored: number;
  made: Array<{ d: Decision; f: Finding }>;
  deadLetters: DeadLetter[];
  /** Dead-letters one record (it is skipped from now on) or a whole message (`item` absent). */
  deadLetter(target: { item: BatchItem } | { msg: BusMessage<unknown> }, reason: DeadLetterReason, step: string, err: unknown): void;
}

/** A named step: one small file each under steps/. */
export interface Step {
  readonly name: string;
  /** Output steps write to the store or the bus and are retried on `retry`. */
  readonly output: boolean;
  run(state: BatchState): Promise<StepResult> | StepResult;
  /**
   * Output steps only, optional: starts the step's I/O for `state` as soon as its analysis is
   * done, before the outputs of earlier chunks finished, when that I/O depends on no earlier
   * output step (persist: the flows' bulk write, on a connection of its own). Must not throw;
   * `run` awaits what it started, and a failure then is handled there (retried or dead-lettered).
   */
  begin?(state: BatchState): void;
}

/** `ok`, as a constant. */
export const OK: StepResult = Object.freeze({ kind: 'ok' });

/**
 * Records an analysis step handles between two turns of the event loop: a long batch yields so
 * that store and bus I/O already under way (earlier batches' outputs) keeps moving meanwhile.
 */
export const YIELD_EVERY = 2000;

/** Lets pending I/O callbacks run (setImmediate). */
export function yieldToIo(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/**
 * The per-record loop of an analysis step: `fn` on each live item of the batch, yielding to I/O
 * every YIELD_EVERY records; an item whose `fn` throws is dead-lettered (`step-error`, naming
 * `step`) and the rest go on.
 */
export async function forEachLiveItem(state: BatchState, step: string, fn: (item: BatchItem) => void): Promise<void> {
  let n = 0;
  for (const item of state.items) {
    if (item.dead) continue;
    if (++n % YIELD_EVERY === 0) await yieldToIo();
    try {
      fn(item);
    } catch (err) {
      state.deadLetter({ item }, 'step-error', step, err);
    }
  }
}
