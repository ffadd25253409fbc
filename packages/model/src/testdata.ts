/** Test helper: parse a file of testdata/ with the floe parsers. */
import { fileURLToPath } from 'node:url';
import { parseFile, type FlowRecord } from '@floe/flow';

/** Absolute path of a file in packages/model/testdata. */
export function testdataPath(name: string): string {
  return fileURLToPath(new URL(`../testdata/${name}`, import.meta.url));
}

/** The records of a testdata file (format detected). */
export async function records(name: string): Promise<FlowRecord[]> {
  return (await parseFile(testdataPath(name), { format: 'auto' })).records;
}
