/**
 * Zeek conn.log importer (`--format zeek-conn`), three flavours told apart line by line:
 *
 * - TSV as Zeek writes it: `#separator \x09` (a stray TAB before it is tolerated, as in Slips'
 *   test10 file), `#unset_field` (`-`), `#empty_field` (`(empty)`), `#fields` naming the columns;
 *   rows split on the separator.
 * - JSON lines (`LogAscii::use_json=T`): one object per line, keys as in `#fields`.
 * - CSV with a header line (`ts,uid,id.orig_h,...`), the flavour of the IoT-23 copies in
 *   aucad/sensor-data.
 *
 * Columns (Zeek docs, `Conn::Info` in base/protocols/conn/main.zeek): `ts` (start, epoch seconds),
 * `id.orig_h`/`id.orig_p`/`id.resp_h`/`id.resp_p` (for ICMP the ports are type and code),
 * `proto`, `duration` (s), `orig_ip_bytes`/`resp_ip_bytes` (IP-level bytes, what conntrack
 * counts; `orig_bytes`/`resp_bytes`, payload, when the IP counts are missing), `orig_pkts`/
 * `resp_pkts`, `conn_state` (mapped by fromZeekConnState). Labels: IoT-23 and CTU-SME-11 add
 * `label` (Benign / Malicious / Unknown) and `detailed-label` or `detailedlabel` (the class:
 * C&C, DDoS, PartOfAHorizontalPortScan...; Stratosphere's IoT-23 README). A file without a label
 * column gives `unknown` rows.
 */
import { parseError, type ParseError } from '@floe/flow';
import { FloeEvalError } from '../errors.js';
import { buildFlow } from './build.js';
import { decimal, port, protocol, secondsToMs, splitCsv, uint } from './fields.js';
import { binaryLabel, UNKNOWN } from './label.js';
import { fromZeekConnState } from './state.js';
import type { LabelledRecord, RowImporter } from './types.js';

const REQUIRED = ['ts', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto'] as const;

/** Create a Zeek conn.log importer for one file (TSV, JSON lines or CSV; see module comment). */
export function createZeekConnImporter(): RowImporter {
  let sep = '\t';
  let unset = '-';
  let empty = '(empty)';
  let names: string[] | undefined;
  let idx = new Map<string, number>();
  let csv = false;
  const setNames = (n: string[], lineNo: number): void => {
    const missing = REQUIRED.filter((r) => !n.includes(r));
    if (missing.length > 0) throw new FloeEvalError('FLOE_EVAL_BAD_HEADER', `line ${lineNo}: no column ${missing.join(', ')}`);
    names = n;
    idx = new Map(n.map((name, i) => [name, i]));
  };

  const fromRow = (get: (name: string) => string | undefined, lineNo: number, line: string): LabelledRecord | ParseError => {
    const val = (name: string): string | undefined => {
      const v = get(name);
      return v === undefined || v === '' || v === unset || v === empty ? undefined : v;
    };
    for (const r of REQUIRED) if (val(r) === undefined) return parseError(lineNo, 'missing-field', line, r);
    const start = secondsToMs(val('ts')!);
    if (start === undefined) return parseError(lineNo, 'bad-timestamp', line, 'ts');
    const proto = protocol(val('proto')!);
    if (proto === undefined) return parseError(lineNo, 'bad-value', line, 'proto');
    const sp = port(val('id.orig_p')!);
    if (sp === undefined) return parseError(lineNo, 'bad-port', line, 'id.orig_p');
    const dp = port(val('id.resp_p')!);
    if (dp === undefined) return parseError(lineNo, 'bad-port', line, 'id.resp_p');
    const num = (name: string): number | undefined | null => {
      const v = val(name);
      if (v === undefined) return undefined;
      const n = uint(v);
      return n ?? null;
    };
    const counters: Record<string, number | undefined> = {};
    for (const c of ['orig_ip_bytes', 'resp_ip_bytes', 'orig_bytes', 'resp_bytes', 'orig_pkts', 'resp_pkts']) {
      const n = num(c);
      if (n === null) return parseError(lineNo, 'bad-number', line, c);
      counters[c] = n;
    }
    let durationMs: number | undefined;
    const d = val('duration');
    if (d !== undefined) {
      const s = decimal(d);
      if (s === undefined) return parseError(lineNo, 'bad-number', line, 'duration');
      durationMs = Math.round(s * 1e6) / 1e3;
    }
    const flow = buildFlow(
      {
        start,
        durationMs,
        protocol: proto,
        srcAddr: val('id.orig_h')!,
        dstAddr: val('id.resp_h')!,
        srcPort: sp,
        dstPort: dp,
        bytesOrig: counters.orig_ip_bytes ?? counters.orig_bytes,
        bytesReply: counters.resp_ip_bytes ?? counters.resp_bytes,
        packetsOrig: counters.orig_pkts,
        packetsReply: counters.resp_pkts,
        flags: fromZeekConnState(val('conn_state') ?? '', proto, counters.resp_pkts),
      },
      lineNo,
      line,
      'id.orig_h',
      'id.resp_h',
    );
    if ('reason' in flow) return flow;
    const lab = get('label');
    const label = lab === undefined ? UNKNOWN : binaryLabel(lab, get('detailed-label') ?? get('detailedlabel'));
    return { flow, label, line: lineNo };
  };

  return {
    format: 'zeek-conn',
    synthesized: { addresses: false, times: false },
    parseLine(raw: string, lineNo: number): LabelledRecord | ParseError | null {
      const line = raw.trimStart().startsWith('#') ? raw.trimStart() : raw;
      if (line.trim() === '') return null;
      if (line.startsWith('#')) {
        const [key, ...rest] = line.split(/[\t ]/);
        const value = rest.join(' ').trim();
        if (key === '#separator') sep = value.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
        else if (key === '#unset_field') unset = value;
        else if (key === '#empty_field') empty = value;
        else if (key === '#fields') setNames(line.split(sep).slice(1), lineNo);
        return null;
      }
      if (line.startsWith('{')) {
        let o: unknown;
        try {
          o = JSON.parse(line);
        } catch {
          return parseError(lineNo, 'bad-json', line);
        }
        if (typeof o !== 'object' || o === null || Array.isArray(o)) return parseError(lineNo, 'bad-json', line);
        const obj = o as Record<string, unknown>;
        return fromRow(
          (n) => {
            const v = obj[n];
            if (v === undefined || v === null) return undefined;
            if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(9);
            if (typeof v === 'boolean') return v ? 'T' : 'F';
            return typeof v === 'string' ? v : undefined;
          },
          lineNo,
          line,
        );
      }
      if (!names) {
        // CSV flavour: the first line is the header.
        const h = splitCsv(line);
        if (h?.includes('ts') && h.includes('id.orig_h')) {
          setNames(h, lineNo);
          csv = true;
          sep = ',';
          return null;
        }
        throw new FloeEvalError('FLOE_EVAL_BAD_HEADER', `line ${lineNo}: no #fields line, JSON object or CSV header (ts,uid,id.orig_h,...) before the first row`);
      }
      const cells = csv ? splitCsv(line) : line.split(sep);
      if (!cells) return parseError(lineNo, 'bad-quote', line);
      if (cells.length !== names.length) return parseError(lineNo, 'bad-column-count', line, `${cells.length} of ${names.length} columns`);
      return fromRow(
        (n) => {
          const i = idx.get(n);
          return i === undefined ? undefined : cells[i];
        },
        lineNo,
        line,
      );
    },
  };
}
