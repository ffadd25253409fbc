/**
 * UNSW-NB15 importer (`--format unsw-nb15`). Column meanings from the data set's
 * `NUSW-NB15_features.csv` (Moustafa & Slay, "UNSW-NB15: a comprehensive data set for network
 * intrusion detection systems", MilCIS 2015): `srcip`, `sport`, `dstip`, `dsport`, `proto`,
 * `state` (Argus state word: FIN, CON, INT, REQ, RST, ECO...), `dur` (s), `sbytes`/`dbytes`
 * (bytes each way), `Spkts`/`Dpkts`, `service` (`http`, `dns`, `-`...), `Stime`/`Ltime` (start
 * and last time, epoch seconds), `attack_cat` (class), `label` / `Label` (0 benign, 1 attack;
 * the aucad copy writes Benign / Malicious).
 *
 * Reads a header line naming the columns (the training/testing set CSVs and the aucad copy) or
 * the original headerless 49-column partitions (UNSW-NB15_1..4.csv, columns in the order above).
 * The copy in the corpora (aucad-unsw-nb15_1_sampled.csv) has NO addresses, ports or attack
 * class: each row then gets its own synthetic source (198.18.0.0/15, see syntheticSource) and
 * destination 192.0.2.1 with the service's well-known port, so an entity window is one row and
 * rule detectors that count flows per source cannot fire on it; times are the real Stime/Ltime.
 */
import { parseError, type ParseError } from '@floe/flow';
import { FloeEvalError } from '../errors.js';
import { buildFlow, Columns, SYNTHETIC_DESTINATION, syntheticSource } from './build.js';
import { decimal, NOT_IP, port, protocol, SERVICE_PORTS, splitCsv, uint } from './fields.js';
import { binaryLabel } from './label.js';
import { fromArgusState } from './state.js';
import type { LabelledRecord, RowImporter, Synthesized } from './types.js';

/** Column order of the headerless UNSW-NB15_1..4.csv partitions (NUSW-NB15_features.csv). */
export const UNSW_COLUMNS = [
  'srcip',
  'sport',
  'dstip',
  'dsport',
  'proto',
  'state',
  'dur',
  'sbytes',
  'dbytes',
  'sttl',
  'dttl',
  'sloss',
  'dloss',
  'service',
  'Sload',
  'Dload',
  'Spkts',
  'Dpkts',
  'swin',
  'dwin',
  'stcpb',
  'dtcpb',
  'smeansz',
  'dmeansz',
  'trans_depth',
  'res_bdy_len',
  'Sjit',
  'Djit',
  'Stime',
  'Ltime',
  'Sintpkt',
  'Dintpkt',
  'tcprtt',
  'synack',
  'ackdat',
  'is_sm_ips_ports',
  'ct_state_ttl',
  'ct_flw_http_mthd',
  'is_ftp_login',
  'ct_ftp_cmd',
  'ct_srv_src',
  'ct_srv_dst',
  'ct_dst_ltm',
  'ct_src_ltm',
  'ct_src_dport_ltm',
  'ct_dst_sport_ltm',
  'ct_dst_src_ltm',
  'attack_cat',
  'Label',
] as const;

/** Create a UNSW-NB15 importer for one file. */
export function createUnswImporter(): RowImporter {
  let cols: Columns | undefined;
  let rows = 0;
  const syn: Synthesized = { addresses: false, times: false };
  const at: Record<string, number> = {};
  const imp: RowImporter = {
    format: 'unsw-nb15',
    synthesized: syn,
    parseLine(line: string, lineNo: number): LabelledRecord | ParseError | null {
      imp.skipReason = undefined;
      if (line.trim() === '') return null;
      const c = splitCsv(line);
      if (!c) return parseError(lineNo, 'bad-quote', line);
      if (!cols) {
        const header = c.some((x) => x.trim().toLowerCase() === 'proto');
        cols = new Columns(header ? c.map((x) => x.trim().toLowerCase()) : UNSW_COLUMNS.map((x) => x.toLowerCase()));
        for (const n of ['srcip', 'sport', 'dstip', 'dsport', 'proto', 'state', 'dur', 'sbytes', 'dbytes', 'spkts', 'dpkts', 'service', 'stime', 'attack_cat', 'label'])
          at[n] = cols.find(n);
        const missing = ['proto', 'dur', 'sbytes', 'dbytes', 'stime', 'label'].filter((n) => at[n] < 0);
        if (missing.length > 0) throw new FloeEvalError('FLOE_EVAL_BAD_HEADER', `line ${lineNo}: no column ${missing.join(', ')}`);
        if (at.srcip < 0 || at.dstip < 0) {
          syn.addresses = true;
          syn.note = 'UNSW-NB15 rows here have no addresses: one synthetic source per row (198.18.0.0/15), so an entity window is one row';
        }
        if (header) return null;
      }
      if (c.length !== cols.names.length) return parseError(lineNo, 'bad-column-count', line, `${c.length} of ${cols.names.length} columns`);
      const get = (n: string): string => (at[n] >= 0 ? c[at[n]].trim() : '');
      const n = rows++;
      const protoName = get('proto').toLowerCase();
      if (NOT_IP.has(protoName)) {
        imp.skipReason = 'not-ip';
        return null;
      }
      const proto = protocol(protoName);
      if (proto === undefined) {
        // UNSW names ~130 protocols (`unas`, `any`, `sep`...): kept as "other" (255, IANA reserved) rather than rejected.
        if (!/^[a-z0-9_./-]{1,20}$/.test(protoName)) return parseError(lineNo, 'bad-value', line, 'proto');
      }
      const stime = uint(get('stime'));
      if (stime === undefined) return parseError(lineNo, 'bad-timestamp', line, 'stime');
      const dur = decimal(get('dur'));
      if (dur === undefined) return parseError(lineNo, 'bad-number', line, 'dur');
      const nums: Record<string, number | undefined> = {};
      for (const f of ['sbytes', 'dbytes', 'spkts', 'dpkts']) {
        if (at[f] < 0) continue;
        const v = uint(get(f));
        if (v === undefined) return parseError(lineNo, 'bad-number', line, f);
        nums[f] = v;
      }
      let sp: number | undefined;
      let dp: number | undefined;
      if (!syn.addresses) {
        sp = port(get('sport'));
        dp = port(get('dsport'));
        if (sp === undefined && get('sport') !== '-') return parseError(lineNo, 'bad-port', line, 'sport');
        if (dp === undefined && get('dsport') !== '-') return parseError(lineNo, 'bad-port', line, 'dsport');
      } else {
        dp = SERVICE_PORTS[get('service')];
      }
      const p = proto ?? 255;
      const flow = buildFlow(
        {
          start: stime * 1000,
          durationMs: Math.round(dur * 1e6) / 1e3,
          protocol: p,
          srcAddr: syn.addresses ? syntheticSource(n) : get('srcip'),
          dstAddr: syn.addresses ? SYNTHETIC_DESTINATION : get('dstip'),
          srcPort: sp,
          dstPort: dp,
          bytesOrig: nums.sbytes,
          bytesReply: nums.dbytes,
          packetsOrig: nums.spkts,
          packetsReply: nums.dpkts,
          flags: fromArgusState(get('state'), p, nums.dpkts),
        },
        lineNo,
        line,
        'srcip',
        'dstip',
      );
      if ('reason' in flow) return flow;
      return { flow, label: binaryLabel(get('label'), at.attack_cat >= 0 ? get('attack_cat') : undefined), line: lineNo };
    },
  };
  return imp;
}
