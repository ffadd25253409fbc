import type { DeadLetter } from '@floe/flow';
import type { UndecodableMessage } from './bus.js';

export { DEAD_LETTER_REASONS, type DeadLetter, type DeadLetterReason } from '@floe/flow';

/** Longest `detail` kept (characters). */
export const DEAD_LETTER_DETAIL_MAX = 1000;

/** The DeadLetter of an undecodable message (reason `undecodable`, payload its original bytes). */
export function undecodableDeadLetter(m: UndecodableMessage, group: string, step: string, at: number): DeadLetter {
  return {
    schema: 1,
    reason: 'undecodable',
    detail: m.error.slice(0, DEAD_LETTER_DETAIL_MAX),
    topic: m.topic,
    partition: m.partition,
    offset: m.offset,
    key: m.key,
    payload: Buffer.from(m.raw.buffer, m.raw.byteOffset, m.raw.byteLength).toString('base64'),
    group,
    step,
    at,
  };
}
