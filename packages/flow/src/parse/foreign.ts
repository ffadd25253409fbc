/**
 * Formats floe recognises but does not read, so that "cannot detect the format" can say what the
 * file looks like instead. Signatures (samples of each in testdata/foreign, sources in
 * testdata/SOURCES.md):
 *
 * - by the first bytes: gzip (1f 8b), zstd (28 b5 2f fd), bzip2 (`BZh1`..`BZh9`), xz
 *   (fd `7zXZ` 00) — "decompress it first"; pcap (a1b2c3d4 / a1b23c4d either byte order),
 *   pcapng (0a 0d 0d 0a); nfdump/nfcapd files (0c a5, layout version 1 or 2); raw NetFlow v5/v9 or
 *   IPFIX export packets (big-endian version 5, 9 or 10 in a binary head); UTF-16 text (a
 *   UTF-16 byte order mark); other binary data (NUL bytes in the head);
 * - by the first lines: Zeek logs (`#separator`/`#fields` headers, or JSON with `id.orig_h`),
 *   AWS VPC flow logs (a header naming `srcaddr dstaddr`, or records `VERSION ... OK|NODATA|
 *   SKIPDATA`; the version is read from the records), GCP VPC flow logs (`jsonPayload.connection`),
 *   Azure NSG flow logs (`flowTuples`, `flowLogVersion`), Cilium Hubble flows (`{"flow":{...}}`),
 *   Calico flow logs (`source_name_aggr`, `dest_name_aggr`), Suricata EVE (`event_type`),
 *   nfdump CSV/JSON output, CTU/Argus binetflow (`StartTime,Dur,Proto,SrcAddr`).
 */

/** A format floe does not read: its name for people, and what to do about it when there is something. */
export interface ForeignFormat {
  /** e.g. `AWS VPC flow logs (version 2)`, `gzip-compressed data`. */
  name: string;
  /** e.g. `decompress it first (gunzip -k FILE)`. */
  hint?: string;
}

/** Formats floe reads, for messages. */
export const READ_FORMATS_TEXT = 'conntrack, conntrack-xml, kernel-log, ulogd-json';

/** What the first bytes of an input say, when they name a format floe does not read. */
export function identifyBytes(head: Uint8Array): ForeignFormat | undefined {
  const b = head;
  const n = b.length;
  const at = (i: number): number => (i < n ? b[i] : -1);
  if (at(0) === 0x1f && at(1) === 0x8b) return { name: 'gzip-compressed data', hint: 'decompress it first (gunzip -k FILE)' };
  if (at(0) === 0x28 && at(1) === 0xb5 && at(2) === 0x2f && at(3) === 0xfd) return { name: 'zstd-compressed data', hint: 'decompress it first (zstd -d FILE)' };
  if (at(0) === 0x42 && at(1) === 0x5a && at(2) === 0x68 && at(3) >= 0x31 && at(3) <= 0x39) return { name: 'bzip2-compressed data', hint: 'decompress it first (bunzip2 -k FILE)' };
  if (at(0) === 0xfd && at(1) === 0x37 && at(2) === 0x7a && at(3) === 0x58 && at(4) === 0x5a && at(5) === 0)
    return { name: 'xz-compressed data', hint: 'decompress it first (unxz -k FILE)' };
  if (n >= 4) {
    const be = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
    const le = ((b[3] << 24) | (b[2] << 16) | (b[1] << 8) | b[0]) >>> 0;
    if (be === 0xa1b2c3d4 || le === 0xa1b2c3d4 || be === 0xa1b23c4d || le === 0xa1b23c4d) return { name: 'a pcap packet capture', hint: 'floe reads flow logs, not packets' };
    if (be === 0x0a0d0d0a) return { name: 'a pcapng packet capture', hint: 'floe reads flow logs, not packets' };
  }
  if (at(0) === 0x0c && at(1) === 0xa5 && (at(2) === 1 || at(2) === 2) && at(3) === 0) return { name: 'an nfdump (nfcapd) binary flow file', hint: 'floe does not read NetFlow' };
  if ((at(0) === 0xff && at(1) === 0xfe) || (at(0) === 0xfe && at(1) === 0xff)) return { name: 'UTF-16 text', hint: 'convert it to UTF-8 first (iconv -f UTF-16 -t UTF-8 FILE)' };
  let binary = false;
  for (let i = 0; i < Math.min(n, 512); i++) {
    const c = b[i];
    if (c === 0 || c < 8 || (c > 13 && c < 32 && c !== 27)) {
      binary = true;
      break;
    }
  }
  if (!binary) return undefined;
  if (at(0) === 0 && (at(1) === 5 || at(1) === 9 || at(1) === 10)) {
    return { name: at(1) === 10 ? 'an IPFIX export packet' : `a NetFlow v${at(1)} export packet`, hint: 'floe does not read NetFlow/IPFIX' };
  }
  return { name: 'binary data' };
}

const AWS_STATUS = new Set(['OK', 'NODATA', 'SKIPDATA']);

/** What the first non-empty lines say, when they are of a format floe does not read. */
export function identifyLines(lines: readonly string[]): ForeignFormat | undefined {
  let awsHeader: string[] | undefined;
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#separator') || line.startsWith('#fields') || line.startsWith('#path')) {
      const path = lines
        .find((l) => l.trim().startsWith('#path'))
        ?.trim()
        .split(/\s+/)[1];
      return { name: `Zeek ${path ?? 'conn'}.log (TSV)` };
    }
    if (/^StartTime[,\t]Dur[,\t]Proto[,\t]SrcAddr/.test(line)) return { name: 'CTU/Argus binetflow (CSV)' };
    if (line.startsWith('ts,te,td,sa,da,sp,dp,pr')) return { name: 'nfdump CSV output' };
    const tokens = line.split(/\s+/);
    if (tokens.includes('srcaddr') && tokens.includes('dstaddr')) {
      awsHeader = tokens;
      continue;
    }
    if (/^\d{1,2}$/.test(tokens[0]) && tokens.length >= 10 && tokens.some((t) => AWS_STATUS.has(t))) {
      const vi = awsHeader?.indexOf('version') ?? 0;
      const v = vi >= 0 ? tokens[vi] : tokens[0];
      return { name: `AWS VPC flow logs (version ${/^\d{1,2}$/.test(v) ? v : tokens[0]})` };
    }
    if (line.charCodeAt(0) === 123 /* { */) {
      const f = identifyJson(line);
      if (f !== undefined) return f;
    }
  }
  // Pretty-printed JSON (an Azure NSG blob, nfdump -o json): look at the text as a whole.
  const joined = lines.join('\n');
  if (joined.includes('"flowTuples"') || joined.includes('"flowLogVersion"') || joined.includes('NetworkSecurityGroupFlowEvent')) return { name: 'Azure NSG flow logs (JSON)' };
  if (joined.includes('"type" : "FLOW"')) return { name: 'nfdump JSON output' };
  if (awsHeader !== undefined) return { name: 'AWS VPC flow logs (custom format header, no records)' };
  return undefined;
}

function identifyJson(line: string): ForeignFormat | undefined {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return undefined;
  const r = o as Record<string, unknown>;
  const has = (k: string): boolean => Object.hasOwn(r, k);
  if (has('id.orig_h') || has('id.resp_h')) return { name: has('conn_state') || has('proto') ? 'Zeek conn.log (JSON)' : 'a Zeek log (JSON)' };
  if (typeof r.flow === 'object' && r.flow !== null && ('IP' in (r.flow as object) || 'verdict' in (r.flow as object))) return { name: 'Cilium Hubble flows (JSON)' };
  const payload = r.jsonPayload as Record<string, unknown> | undefined;
  if (typeof payload === 'object' && payload !== null && 'connection' in payload) return { name: 'Google Cloud VPC flow logs (JSON)' };
  if (line.includes('"flowTuples"') || line.includes('"flowLogVersion"') || line.includes('NetworkSecurityGroupFlowEvent')) return { name: 'Azure NSG flow logs (JSON)' };
  if (has('source_name_aggr') || has('dest_name_aggr')) return { name: 'Calico flow logs (JSON)' };
  if (has('event_type') && (has('src_ip') || has('flow_id'))) return { name: 'Suricata EVE JSON' };
  return undefined;
}

/**
 * The message for an input whose format floe does not recognise as one it reads: `FILE looks
 * like X, which floe does not read; floe reads conntrack, ...` (then `; HINT`), or, when it
 * looks like nothing known, `cannot detect the format of FILE; floe reads ...; pass --format`.
 */
export function unreadableFormatMessage(file: string, foreign: ForeignFormat | undefined): string {
  if (foreign === undefined) return `cannot detect the format of ${file}; floe reads ${READ_FORMATS_TEXT} (pass --format to force one)`;
  return `${file} looks like ${foreign.name}, which floe does not read; floe reads ${READ_FORMATS_TEXT}${foreign.hint ? `; ${foreign.hint}` : ''}`;
}
