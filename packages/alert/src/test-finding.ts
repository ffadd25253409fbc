/** Test helpers (not exported by the package). */

/** A finding for the tests: a vertical port scan as the detector raises it (overrides win). Test-only. */
import type { Finding } from '@floe/flow';

export function testFinding(over: Partial<Finding> = {}): Finding {
  return {
    id: 'portscan.vertical:0123456789abcdef01234567',
    schema: 1,
    firstSeen: Date.UTC(2026, 0, 5, 10, 0, 0),
    lastSeen: Date.UTC(2026, 0, 5, 10, 0, 2),
    detector: 'portscan.vertical',
    kind: 'detector',
    severity: 'high',
    score: 0.9,
    entity: { addr: '10.0.0.66' },
    peers: ['10.0.0.5'],
    summary: '10.0.0.66 probed 120 ports of 10.0.0.5 within 2.0 s (threshold 15 in 60 s)',
    evidence: { flows: 120, distinctPorts: 120, ports: [22, 80, 443], sample: [{ at: Date.UTC(2026, 0, 5, 10, 0, 0), dst: '10.0.0.5', dstPort: 22, protocol: 6 }] },
    mitre: 'T1046',
    producedBy: 'policy:test',
    ...over,
  };
}

/** Splits a CEF extension on unescaped spaces before `key=`, and unescapes values (the inverse of cefValue). */
export function parseCefExtension(ext: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /(?:^| )([A-Za-z0-9]+)=((?:[^\\ ]|\\.| (?![A-Za-z0-9]+=))*)/g;
  for (const m of ext.matchAll(re)) out[m[1]] = m[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c));
  return out;
}

/** Splits a CEF line at its first 7 unescaped pipes (a backslash escapes the next character). */
export function splitCefHeader(line: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && parts.length < 7) {
      cur += c + (line[i + 1] ?? '');
      i++;
    } else if (c === '|' && parts.length < 7) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}
