/**
 * ArcSight Common Event Format (CEF) rev. 25 ("Implementing ArcSight CEF", Micro Focus):
 * `CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|Extension`.
 * Header fields escape `\` and `|`; extension values escape `\`, `=`, and write newlines as `\n`
 * (`\r` for CR). Other control characters (which CEF does not define) become `\xHH` text, so no
 * input-derived text can break the line or the syslog frame around it.
 */
import { protocolName, type Finding, type Severity } from '@floe/flow';

/** CEF severity 0..10 of a floe severity (info 1, low 3, medium 5, high 8, critical 10). */
export const CEF_SEVERITY: Readonly<Record<Severity, number>> = Object.freeze({ info: 1, low: 3, medium: 5, high: 8, critical: 10 });

/** Controls other than \n and \r, and DEL, as visible `\xHH` (CEF has no escape for them). */
function controls(s: string): string {
  return s.replace(/[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Escapes a CEF header field: `\` → `\\`, `|` → `\|`, CR/LF → space-free `\r`/`\n` text, other controls `\xHH`. */
export function cefHeader(s: string): string {
  return controls(s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r/g, '\\r').replace(/\n/g, '\\n'));
}

/** Escapes a CEF extension value: `\` → `\\`, `=` → `\=`, LF → `\n`, CR → `\r`, other controls `\xHH`. */
export function cefValue(s: string): string {
  return controls(s.replace(/\\/g, '\\\\').replace(/=/g, '\\=').replace(/\r/g, '\\r').replace(/\n/g, '\\n'));
}

/** One finding's evidence facts CEF carries: the first sampled destination, port and protocol. */
function firstSample(f: Finding): { dst?: string; dpt?: number; proto?: number } {
  const s = f.evidence.sample?.[0];
  const ports = f.evidence.ports;
  return {
    dst: f.peers.length === 1 ? f.peers[0] : (s?.dst ?? f.peers[0]),
    dpt: ports && ports.length === 1 ? ports[0] : s?.dstPort,
    proto: s?.protocol,
  };
}

/**
 * The CEF line of a finding. Signature ID = detector id, Name = summary; extension keys from the
 * CEF dictionary: src (entity address), dst (its single peer, else the first sampled one), dpt
 * (the single port, else the first sampled), proto (transport name), act (`alert`), cnt (flows),
 * start / end / rt (first seen, last seen, last seen; ms since epoch), msg (summary), cs1
 * detector, cs2 finding id, cs3 MITRE ATT&CK technique, cs4 namespace (when known), cs5 producedBy,
 * cfp1 score. Order fixed, absent facts left out.
 * @param version floe's version (Device Version).
 */
export function findingToCef(f: Finding, version: string): string {
  const x = firstSample(f);
  const ext: Array<[string, string | number | undefined]> = [
    ['src', f.entity.addr],
    ['dst', x.dst],
    ['dpt', x.dpt],
    ['proto', x.proto === undefined ? undefined : protocolName(x.proto).toUpperCase()],
    ['act', 'alert'],
    ['cnt', f.evidence.flows],
    ['start', f.firstSeen],
    ['end', f.lastSeen],
    ['rt', f.lastSeen],
    ['msg', f.summary],
    ['cs1', f.detector],
    ['cs1Label', 'detector'],
    ['cs2', f.id],
    ['cs2Label', 'findingId'],
    ['cs3', f.mitre],
    ['cs3Label', f.mitre === undefined ? undefined : 'mitreTechnique'],
    ['cs4', f.entity.namespace],
    ['cs4Label', f.entity.namespace === undefined ? undefined : 'namespace'],
    ['cs5', f.producedBy],
    ['cs5Label', 'producedBy'],
    ['cfp1', f.score],
    ['cfp1Label', 'score'],
  ];
  const extension = ext
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${cefValue(String(v))}`)
    .join(' ');
  const header = ['CEF:0', 'floe', 'floe', cefHeader(version), cefHeader(f.detector), cefHeader(f.summary), String(CEF_SEVERITY[f.severity])].join('|');
  return `${header}|${extension}`;
}
