import type { FlowRecord } from '../record.js';

/** Input formats floe parses line by line. */
export type FormatName = 'conntrack' | 'conntrack-xml' | 'kernel-log' | 'ulogd-json';

/** Every FormatName, in detection order. */
export const FORMAT_NAMES: readonly FormatName[] = ['conntrack-xml', 'ulogd-json', 'conntrack', 'kernel-log'];

/**
 * A rejected line: 1-based line number, a stable kebab-case reason code (`bad-address`,
 * `bad-port`, `bad-number`, `bad-value`, `bad-interface`, `bad-timestamp`, `bad-json`, `bad-xml`,
 * `missing-field`, `unknown-line`, `unexpected-token`, `unterminated-flow`, `line-too-long`,
 * `control-byte`, `parser-error`), the field when one is to blame, the line text cut to 200
 * characters (raw input: escape it with escapeText before it reaches a terminal or a log), and
 * the file when parseLines/parseFile know it.
 */
export interface ParseError {
  line: number;
  reason: string;
  field?: string;
  text: string;
  file?: string;
  /** For `line-too-long`: the line's length in bytes (only its first bytes are in `text`). */
  bytes?: number;
}

/** Options shared by every parser. */
export interface ParserOptions {
  /** Observing host name, copied into FlowRecord.node. */
  node?: string;
  /** Clock for observedAt when the input carries no usable time (ms since epoch). Default Date.now. */
  now?: () => number;
}

/**
 * Stateful line parser for one input stream. parseLine returns a record, an error, or null for
 * lines that carry no record (blank, headers, comments, XML prologue, conntrack's trailing
 * summary line); callers count nulls as skipped.
 */
export interface LineParser {
  readonly format: FormatName;
  parseLine(line: string, lineNo: number): FlowRecord | ParseError | null;
  /**
   * End of input: results still held by a parser that buffers (conntrack-xml: the rest of a line
   * that held several flows, or an unterminated flow as an `unterminated-flow` error). Optional;
   * parseLines calls it once after the last line.
   */
  end?(): Array<FlowRecord | ParseError>;
  /**
   * Results the last parseLine call completed besides the one it returned (conntrack-xml: the
   * other flows of a line that held several). Optional; parseLines calls it after every line.
   */
  drain?(): Array<FlowRecord | ParseError>;
}

/** Longest line text kept in a ParseError. */
export const ERROR_TEXT_MAX = 200;

/** Build a ParseError (text cut to ERROR_TEXT_MAX characters). */
export function parseError(line: number, reason: string, text: string, field?: string): ParseError {
  const e: ParseError = { line, reason, text: text.length > ERROR_TEXT_MAX ? text.slice(0, ERROR_TEXT_MAX) : text };
  if (field !== undefined) e.field = field;
  return e;
}

/** True for a ParseError (as returned by LineParser.parseLine), false for records and anything else. */
export function isParseError(x: unknown): x is ParseError {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  return typeof o.reason === 'string' && typeof o.line === 'number' && typeof o.text === 'string' && o.schema === undefined;
}
