/** Test helper: parse a file of testdata/ with the floe parsers. */
import { fileURLToPath } from 'node:url';
import { parseFile, type FlowRecord } from '@floe/flow';

/** Absolute path of a file in packages/model/testdata. */
export function testdataPath(name: string): string {
  return fileURLToPath(new URL(`../testdata/${name}`, import.meta.url));
}

/**
 * Clock of the parser for records without a time of their own (`conntrack -L`, XML events): a
 * fixed instant, 2026-01-01T00:00:01Z, so their windows do not depend on when a test runs.
 */
export const FIXED_NOW = Date.UTC(2026, 0, 1, 0, 0, 1);

/** The records of a testdata file (format detected; untimed records stamped FIXED_NOW). */
export async function records(name: string): Promise<FlowRecord[]> {
  return (await parseFile(testdataPath(name), { format: 'auto', now: () => FIXED_NOW })).records;
}
