/** Option checks shared by the rule detectors' factories; each throws DetectError (FLOE_DETECT_BAD_OPTIONS) naming the field. */
import { SEVERITIES, type Severity } from '@floe/flow';
import { DetectError } from './errors.js';

/** An integer >= `min`. */
export function intAtLeast(field: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new DetectError('FLOE_DETECT_BAD_OPTIONS', field, `must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** A number within [min, max]. */
export function numberWithin(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || Number.isNaN(v) || v < min || v > max) {
    throw new DetectError('FLOE_DETECT_BAD_OPTIONS', field, `must be a number within ${min}..${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** One of SEVERITIES. */
export function severityOf(field: string, v: unknown): Severity {
  if (typeof v !== 'string' || !(SEVERITIES as readonly string[]).includes(v)) {
    throw new DetectError('FLOE_DETECT_BAD_OPTIONS', field, `must be one of ${SEVERITIES.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as Severity;
}

/** A non-empty list of ports 1..65535, returned sorted without duplicates. */
export function portList(field: string, v: unknown): number[] {
  if (!Array.isArray(v) || v.length === 0) throw new DetectError('FLOE_DETECT_BAD_OPTIONS', field, `must be a non-empty list of ports, got ${JSON.stringify(v)}`);
  for (const p of v) intAtLeast(`${field}[]`, p, 1);
  if (v.some((p) => p > 65535)) throw new DetectError('FLOE_DETECT_BAD_OPTIONS', `${field}[]`, 'ports must be within 1..65535');
  return [...new Set(v as number[])].sort((a, b) => a - b);
}
