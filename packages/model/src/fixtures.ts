/**
 * Test fixture: benign and attack windows from the real captures of testdata/ (5 s windows, so
 * the short captures give enough windows), split by what the rule detectors flag.
 */
import { createDetectors, defaultDetectorOptions } from '@floe/detect';
import type { Finding } from '@floe/flow';
import { extractFeatures, type EntityWindow } from './features.js';
import { records } from './testdata.js';
import { entitiesWithFindings, leaveOut } from './training-set.js';

/** The captures used, with the entities they contain. */
export const CAPTURES = [
  'captured-conntrack-E-extended-timestamp-nmap-top100-scan.log',
  'captured-ulogd2-nfct-json-nmap-scan-v4v6.json',
  'travis-nat-conntrack-E-o-xml-events.xml',
  'iki-conntrack-L-http-burst.txt',
  'crowdsec-hub-iptables-portscan.log',
] as const;

/** Window length of the fixture (ms). */
export const FIXTURE_WINDOW_MS = 5000;

/** Windows of every capture: `benign` (no rule finding for the entity in that file) and `flagged`, with the file each came from. */
export async function captureWindows(): Promise<{ benign: EntityWindow[]; flagged: Array<EntityWindow & { file: string }> }> {
  const benign: EntityWindow[] = [];
  const flagged: Array<EntityWindow & { file: string }> = [];
  for (const file of CAPTURES) {
    const recs = await records(file);
    const dets = createDetectors(defaultDetectorOptions(), { lateness: Number.POSITIVE_INFINITY });
    const findings: Finding[] = [];
    for (const r of recs) for (const d of dets) findings.push(...d.observe(r));
    for (const d of dets) findings.push(...d.flush());
    const { kept, left } = leaveOut(extractFeatures(recs, { windowMs: FIXTURE_WINDOW_MS }), entitiesWithFindings(findings));
    benign.push(...kept);
    for (const w of left) flagged.push({ ...w, file });
  }
  return { benign, flagged };
}
