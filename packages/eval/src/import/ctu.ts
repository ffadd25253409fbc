/**
 * CTU / Argus bidirectional flow importer (`--format ctu`): the `.binetflow` files of the
 * Stratosphere Lab (CTU-13, Garcia et al., "An empirical comparison of botnet detection
 * methods", Computers & Security 2014; Slips' test data), written by Argus `ra -s` with the
 * columns `StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,
 * TotBytes,SrcBytes[,SrcPkts],Label`, comma- or TAB-separated (told from the header line).
 *
 * Mapping (argus(8)/ra(1) field meanings): StartTime `YYYY/MM/DD HH:MM:SS.ffffff` in the capture's
 * local time, read as UTC (see dateTimeToMs); Dur seconds; ports decimal or `0x` hex (ICMP type
 * and code); bytes and packets are both directions' totals, so origin = SrcBytes/SrcPkts and
 * reply = Tot − Src (reply packets stay absent when the file has no SrcPkts); State through
 * fromArgusState. `Dir` is not used: the state says what came back. Rows of `man` (Argus
 * management records) and link-layer protocols (`llc`, `arp`...) are skipped and counted, not
 * rejected. Labels (CTU-13 README): a label naming `Botnet`, `Malware` or `C&C`/`CC` is an
 * attack, its class the label without `flow=`; `Normal` is benign; `Background`, empty and
 * anything else are unknown (CTU-13 says background traffic is unlabelled, not benign).
 */
import { parseError, type ParseError } from '@floe/flow';
import { FloeEvalError } from '../errors.js';
import { buildFlow, Columns } from './build.js';
import { dateTimeToMs, decimal, NOT_IP, port, protocol, uint } from './fields.js';
import { BENIGN, UNKNOWN } from './label.js';
import { fromArgusState } from './state.js';
import type { Label, LabelledRecord, RowImporter } from './types.js';

/** Label of a CTU / Argus `Label` cell (see module comment). */
export function ctuLabel(text: string): Label {
  const t = text.trim();
  const body = t.startsWith('flow=') ? t.slice(5) : t;
  if (/botnet|malware|c&c|(^|-)cc(-|$)/i.test(body)) return { kind: 'attack', cls: body.replace(/^(From|To)-/, ''), detail: t };
  if (/normal/i.test(body)) return { ...BENIGN, detail: t };
  return t === '' ? UNKNOWN : { ...UNKNOWN, detail: t };
}

const REQUIRED = ['StartTime', 'Dur', 'Proto', 'SrcAddr', 'Sport', 'DstAddr', 'Dport', 'State', 'TotPkts', 'TotBytes', 'SrcBytes'];

/** Create a CTU binetflow importer for one file. */
export function createCtuImporter(): RowImporter {
  let cols: Columns | undefined;
  let sep = ',';
  const pos: Record<string, number> = {};
  const imp: RowImporter = {
    format: 'ctu',
    synthesized: { addresses: false, times: false },
    parseLine(line: string, lineNo: number): LabelledRecord | ParseError | null {
      imp.skipReason = undefined;
      if (line.trim() === '') return null;
      if (!cols) {
        sep = line.includes('\t') ? '\t' : ',';
        cols = new Columns(line.split(sep));
        const missing = REQUIRED.filter((n) => cols!.find(n) < 0);
        if (missing.length > 0)
          throw new FloeEvalError('FLOE_EVAL_BAD_HEADER', `line ${lineNo}: no column ${missing.join(', ')} (expected the binetflow header StartTime,Dur,Proto,...)`);
        for (const n of [...REQUIRED, 'SrcPkts', 'Label']) pos[n] = cols.find(n);
        return null;
      }
      const c = line.split(sep);
      if (c.length !== cols.names.length) return parseError(lineNo, 'bad-column-count', line, `${c.length} of ${cols.names.length} columns`);
      const get = (n: string): string => (pos[n] >= 0 ? c[pos[n]].trim() : '');
      const protoName = get('Proto').toLowerCase();
      if (protoName === 'man') {
        imp.skipReason = 'management-record';
        return null;
      }
      if (NOT_IP.has(protoName)) {
        imp.skipReason = 'not-ip';
        return null;
      }
      const proto = protocol(protoName);
      if (proto === undefined) return parseError(lineNo, 'bad-value', line, 'Proto');
      const start = dateTimeToMs(get('StartTime'));
      if (start === undefined) return parseError(lineNo, 'bad-timestamp', line, 'StartTime');
      const dur = decimal(get('Dur'));
      if (dur === undefined) return parseError(lineNo, 'bad-number', line, 'Dur');
      const ports: Array<number | undefined> = [];
      for (const f of ['Sport', 'Dport']) {
        const t = get(f);
        const v = t === '' ? undefined : port(t);
        if (t !== '' && v === undefined) return parseError(lineNo, 'bad-port', line, f);
        ports.push(v);
      }
      const nums: Record<string, number | undefined> = {};
      for (const f of ['TotPkts', 'TotBytes', 'SrcBytes', 'SrcPkts']) {
        const t = get(f);
        if (t === '' && f === 'SrcPkts') continue;
        const v = uint(t);
        if (v === undefined) return parseError(lineNo, 'bad-number', line, f);
        nums[f] = v;
      }
      const { TotPkts: tp, TotBytes: tb, SrcBytes: sb, SrcPkts: sp } = nums as Record<string, number>;
      if (sb > tb) return parseError(lineNo, 'bad-number', line, 'SrcBytes');
      if (sp !== undefined && sp > tp) return parseError(lineNo, 'bad-number', line, 'SrcPkts');
      const replyPackets = sp !== undefined ? tp - sp : undefined;
      const flow = buildFlow(
        {
          start,
          durationMs: Math.round(dur * 1e6) / 1e3,
          protocol: proto,
          srcAddr: get('SrcAddr'),
          dstAddr: get('DstAddr'),
          srcPort: ports[0],
          dstPort: ports[1],
          bytesOrig: sb,
          bytesReply: tb - sb,
          packetsOrig: sp,
          packetsReply: replyPackets,
          flags: fromArgusState(get('State'), proto, replyPackets),
        },
        lineNo,
        line,
        'SrcAddr',
        'DstAddr',
      );
      if ('reason' in flow) return flow;
      return { flow, label: ctuLabel(get('Label')), line: lineNo };
    },
  };
  return imp;
}
