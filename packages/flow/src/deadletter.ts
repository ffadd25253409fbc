/** The dead-letter record type, shared by the bus (floe.deadletter.v1) and the stores (`dead_letters`). */

/**
 * Why a message or record was dead-lettered (the `reason` of a DeadLetter and the label of
 * floe_deadletter_total):
 * - `undecodable`: the value is not JSON, or not the shape the topic carries (a flows message is
 *   an array of records);
 * - `schema-version`: a record without a `schema` field or with a version this consumer does not read;
 * - `invalid-record`: a record of a known version whose fields are missing or of the wrong type;
 * - `step-error`: a record that made a processing step (policy, detect) throw;
 * - `store-rejected`: a record the store refused as data (not an outage).
 */
export const DEAD_LETTER_REASONS = ['undecodable', 'schema-version', 'invalid-record', 'step-error', 'store-rejected'] as const;

/** One of DEAD_LETTER_REASONS. */
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

/**
 * Value of a message on `floe.deadletter.v1` (keyed by the original message key), and a row of
 * the stores' `dead_letters` table. Schema version 1.
 */
export interface DeadLetter {
  schema: 1;
  reason: DeadLetterReason;
  /** The error text (the parser's, validator's or step's message), at most 1000 characters. */
  detail: string;
  /** Where it was read: logical topic, partition, offset (decimal string; '' when the adapter has none). */
  topic: string;
  partition: number;
  offset: string;
  /** Original message key. */
  key: string;
  /** Index of the record inside the message value (a flows message carries an array); absent for a whole message. */
  record?: number;
  /** The original bytes, base64: the message value as read for a whole message, the record's JSON for one record. */
  payload: string;
  /** Consumer group that gave up on it, and which step. */
  group: string;
  step: string;
  /** When it was dead-lettered (ms since epoch). */
  at: number;
}
