import type { FlowRecord } from '../record.js';
import { isParseError, type ParseError } from './types.js';

/** How many errors a ParseStats keeps by default. */
export const DEFAULT_KEPT_ERRORS = 100;

/**
 * Counters of one parse: records parsed, lines skipped (null from parseLine), lines rejected in
 * total and by reason, and the first `keep` errors (default 100) with their line numbers.
 */
export class ParseStats {
  parsed = 0;
  skipped = 0;
  rejected = 0;
  readonly byReason = new Map<string, number>();
  readonly errors: ParseError[] = [];
  readonly keep: number;

  constructor(keep = DEFAULT_KEPT_ERRORS) {
    this.keep = keep;
  }

  /** Count one parseLine result: a record (parsed), an error (rejected) or null (skipped). */
  record(result: FlowRecord | ParseError | null): void {
    if (result === null) this.skipped++;
    else if (isParseError(result)) this.reject(result);
    else this.parsed++;
  }

  /** Count one rejected line (keeps it while fewer than `keep` are kept). */
  reject(e: ParseError): void {
    this.rejected++;
    this.byReason.set(e.reason, (this.byReason.get(e.reason) ?? 0) + 1);
    if (this.errors.length < this.keep) this.errors.push(e);
  }

  /** Lines seen: parsed + skipped + rejected. */
  get lines(): number {
    return this.parsed + this.skipped + this.rejected;
  }

  /** Plain object for JSON output: `{ parsed, skipped, rejected, byReason: {reason: n}, errors }`. */
  toJSON(): { parsed: number; skipped: number; rejected: number; byReason: Record<string, number>; errors: ParseError[] } {
    return {
      parsed: this.parsed,
      skipped: this.skipped,
      rejected: this.rejected,
      byReason: Object.fromEntries(this.byReason),
      errors: this.errors,
    };
  }
}
