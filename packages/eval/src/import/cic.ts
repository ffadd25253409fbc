/**
 * CIC-IDS2017 / CSE-CIC-IDS2018 importer (`--format cic-ids`): CICFlowMeter CSV (Sharafaldin,
 * Habibi Lashkari, Ghorbani, "Toward generating a new intrusion detection dataset and intrusion
 * traffic characterization", ICISSP 2018; column meanings in CICFlowMeter's README), in the
 * original `TrafficLabelling` spelling (`Source IP`, `Total Fwd Packets`, ` Label` with leading
 * spaces, times `d/m/yyyy h:mm[:ss]`) and the "improved" re-extraction's (Engelen, Rimmer,
 * Joosen, "Troubleshooting an intrusion detection dataset: the CICIDS2017 case study", IEEE SPW
 * 2021: `Src IP`, `Total Fwd Packet`, times `yyyy-mm-dd hh:mm:ss.ffffff`, `Attempted Category`).
 *
 * Mapping: `Timestamp` is capture-local time (New Brunswick, UTC−3 in July 2017), read as UTC
 * (see dateTimeToMs); `Flow Duration` is in MICROseconds; bytes each way = `Total Length of
 * Fwd/Bwd Packet(s)` (payload) + `Fwd/Bwd Header Length` (header bytes as CICFlowMeter counts
 * them; a negative header length, a known CICFlowMeter bug, is left out); packets = `Total
 * Fwd/Bwd Packet(s)`. TCP state from the flag counts: no backward packet → SYN_SENT + unreplied;
 * a RST with at most one backward packet → CLOSE (refused); other RSTs → CLOSE + assured; a FIN →
 * TIME_WAIT + assured; else ESTABLISHED + assured. Label: `BENIGN` benign, any other value is the
 * attack class (`DoS Hulk`, `Portscan`, `X - Attempted` kept as its own class).
 */
import { parseError, type ParseError } from '@floe/flow';
import { FloeEvalError } from '../errors.js';
import { buildFlow, Columns } from './build.js';
import { dateTimeToMs, port, protocol, splitCsv, uint } from './fields.js';
import { binaryLabel, UNKNOWN } from './label.js';
import type { ConnFlags } from './state.js';
import type { LabelledRecord, RowImporter } from './types.js';

const SPELLINGS: Record<string, string[]> = {
  src: ['Src IP', 'Source IP'],
  sport: ['Src Port', 'Source Port'],
  dst: ['Dst IP', 'Destination IP'],
  dport: ['Dst Port', 'Destination Port'],
  proto: ['Protocol'],
  ts: ['Timestamp'],
  dur: ['Flow Duration'],
  fpk: ['Total Fwd Packet', 'Total Fwd Packets'],
  bpk: ['Total Bwd packets', 'Total Backward Packets', 'Total Bwd Packets'],
  fby: ['Total Length of Fwd Packet', 'Total Length of Fwd Packets'],
  bby: ['Total Length of Bwd Packet', 'Total Length of Bwd Packets'],
  fhd: ['Fwd Header Length'],
  bhd: ['Bwd Header Length'],
  syn: ['SYN Flag Count'],
  rst: ['RST Flag Count'],
  fin: ['FIN Flag Count'],
  label: ['Label'],
};
const REQUIRED = ['src', 'dst', 'proto', 'ts', 'dur', 'fpk', 'bpk', 'fby', 'bby', 'label'];

/** `d/m/yyyy h:mm[:ss] [AM|PM]` (CIC-IDS2017 TrafficLabelling) → ms, read as UTC. */
function dmyToMs(text: string): number | undefined {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2})(?::(\d{2}))?(?: ?([AP]M))?$/i.exec(text);
  if (!m) return undefined;
  let h = +m[4];
  if (m[7]) h = (h % 12) + (m[7].toUpperCase() === 'PM' ? 12 : 0);
  if (+m[2] < 1 || +m[2] > 12 || +m[1] < 1 || +m[1] > 31 || h > 23 || +m[5] > 59) return undefined;
  return Date.UTC(+m[3], +m[2] - 1, +m[1], h, +m[5], m[6] ? +m[6] : 0);
}

/** A signed decimal integer (CICFlowMeter writes negative header lengths). */
function int(text: string): number | undefined {
  return /^-?[0-9]{1,15}$/.test(text) ? Number(text) : undefined;
}

function tcpFlags(bwdPackets: number, syn: number, rst: number, fin: number): ConnFlags {
  if (bwdPackets === 0) return syn > 0 ? { state: 'SYN_SENT', unreplied: true } : { unreplied: true };
  if (rst > 0) return bwdPackets <= 1 ? { state: 'CLOSE' } : { state: 'CLOSE', assured: true };
  if (fin > 0) return { state: 'TIME_WAIT', assured: true };
  return { state: 'ESTABLISHED', assured: true };
}

/** Create a CICFlowMeter CSV importer for one file. */
export function createCicImporter(): RowImporter {
  let cols: Columns | undefined;
  const at: Record<string, number> = {};
  return {
    format: 'cic-ids',
    synthesized: { addresses: false, times: false },
    parseLine(line: string, lineNo: number): LabelledRecord | ParseError | null {
      if (line.trim() === '') return null;
      const c = splitCsv(line);
      if (!c) return parseError(lineNo, 'bad-quote', line);
      if (!cols) {
        cols = new Columns(c);
        for (const [k, names] of Object.entries(SPELLINGS)) at[k] = cols.find(...names);
        const missing = REQUIRED.filter((k) => at[k] < 0).map((k) => SPELLINGS[k][0]);
        if (missing.length > 0) throw new FloeEvalError('FLOE_EVAL_BAD_HEADER', `line ${lineNo}: no column ${missing.join(', ')} (CICFlowMeter CSV with addresses expected)`);
        return null;
      }
      if (c.length !== cols.names.length) return parseError(lineNo, 'bad-column-count', line, `${c.length} of ${cols.names.length} columns`);
      const get = (k: string): string => (at[k] >= 0 ? c[at[k]].trim() : '');
      const name = (k: string): string => SPELLINGS[k][at[k] >= 0 ? Math.max(0, SPELLINGS[k].indexOf(cols!.names[at[k]].trim())) : 0];
      const proto = protocol(get('proto'));
      if (proto === undefined) return parseError(lineNo, 'bad-value', line, name('proto'));
      const start = dateTimeToMs(get('ts')) ?? dmyToMs(get('ts'));
      if (start === undefined) return parseError(lineNo, 'bad-timestamp', line, name('ts'));
      const durUs = int(get('dur'));
      if (durUs === undefined) return parseError(lineNo, 'bad-number', line, name('dur'));
      const n: Record<string, number> = {};
      for (const k of ['fpk', 'bpk', 'fby', 'bby']) {
        const v = uint(get(k));
        if (v === undefined) return parseError(lineNo, 'bad-number', line, name(k));
        n[k] = v;
      }
      for (const k of ['fhd', 'bhd', 'syn', 'rst', 'fin']) n[k] = at[k] >= 0 ? (int(get(k)) ?? 0) : 0;
      const sp = get('sport') === '' ? undefined : port(get('sport'));
      if (get('sport') !== '' && sp === undefined) return parseError(lineNo, 'bad-port', line, name('sport'));
      const dp = get('dport') === '' ? undefined : port(get('dport'));
      if (get('dport') !== '' && dp === undefined) return parseError(lineNo, 'bad-port', line, name('dport'));
      const flow = buildFlow(
        {
          start,
          // A negative duration (clock steps in the capture) is kept as no duration.
          durationMs: durUs >= 0 ? durUs / 1000 : undefined,
          protocol: proto,
          srcAddr: get('src'),
          dstAddr: get('dst'),
          srcPort: sp,
          dstPort: dp,
          bytesOrig: n.fby + Math.max(0, n.fhd),
          bytesReply: n.bby + Math.max(0, n.bhd),
          packetsOrig: n.fpk,
          packetsReply: n.bpk,
          flags: proto === 6 ? tcpFlags(n.bpk, n.syn, n.rst, n.fin) : n.bpk === 0 ? { unreplied: true } : { assured: true },
        },
        lineNo,
        line,
        name('src'),
        name('dst'),
      );
      if ('reason' in flow) return flow;
      const lab = get('label');
      return { flow, label: lab === '' ? UNKNOWN : binaryLabel(lab.toUpperCase() === 'BENIGN' ? 'benign' : 'attack', lab), line: lineNo };
    },
  };
}
