/**
 * NSL-KDD importer (`--format nsl-kdd`). NSL-KDD (Tavallaee, Bagheri, Lu, Ghorbani, "A detailed
 * analysis of the KDD CUP 99 data set", CISDA 2009) keeps the 41 KDD Cup '99 features (column
 * list: kddcup.names; meanings: the KDD Cup 1999 task description) plus the label and a
 * difficulty level; KDDTrain+.txt/KDDTest+.txt have no header, the corpora copy has one.
 *
 * NSL-KDD HAS NO ADDRESSES AND NO TIMES. Mapping, said in the output: each row is its own
 * synthetic source (198.18.0.0/15, see syntheticSource) talking to 192.0.2.1, at a synthetic time
 * of (row index) minutes after the epoch, so every row is its own 60 s entity window and rule
 * detectors that count flows per source cannot fire: on NSL-KDD the figures judge the model on
 * single connections, not the rules. Fields used: `duration` (s), `protocol_type`, `service`
 * (well-known port), `flag` (KDD flags are Bro/Zeek conn states: fromZeekConnState), `src_bytes`/
 * `dst_bytes` (payload bytes each way). The 2-second and 100-connection traffic features
 * (`count`, `serror_rate`...) are not flow fields and are not read.
 *
 * Class: the attack's category in the DARPA 1998/99 taxonomy used by KDD Cup '99 (DoS, Probe,
 * R2L, U2R; names of the NSL-KDD test set's new attacks placed as in Tavallaee et al.), the attack
 * name as `detail`; `normal` is benign.
 */
import { parseError, type ParseError } from '@floe/flow';
import { buildFlow, Columns, SYNTHETIC_DESTINATION, syntheticSource } from './build.js';
import { decimal, protocol, SERVICE_PORTS, splitCsv, uint } from './fields.js';
import { BENIGN } from './label.js';
import { fromZeekConnState } from './state.js';
import type { Label, LabelledRecord, RowImporter } from './types.js';

const CATEGORY: Record<string, string> = {};
for (const [cat, names] of Object.entries({
  DoS: 'back land neptune pod smurf teardrop apache2 mailbomb processtable udpstorm',
  Probe: 'ipsweep nmap portsweep satan mscan saint',
  R2L: 'ftp_write guess_passwd imap multihop phf spy warezclient warezmaster sendmail named snmpgetattack snmpguess xlock xsnoop worm',
  U2R: 'buffer_overflow loadmodule perl rootkit ps sqlattack xterm httptunnel',
})) {
  for (const n of names.split(' ')) CATEGORY[n] = cat;
}

/** Label of an NSL-KDD `label` cell: benign for `normal`, else the attack's category with the name as detail. */
export function nslKddLabel(text: string): Label {
  const t = text.trim().replace(/\.$/, '');
  if (t === 'normal') return BENIGN;
  return { kind: 'attack', cls: Object.hasOwn(CATEGORY, t) ? CATEGORY[t] : t, detail: t };
}

/** Positions of the used columns in the headerless files (kddcup.names order). */
const POSITIONAL = { duration: 0, protocol_type: 1, service: 2, flag: 3, src_bytes: 4, dst_bytes: 5, label: 41 };

/** Create an NSL-KDD importer for one file. */
export function createNslKddImporter(): RowImporter {
  let at: Record<string, number> | undefined;
  let width = 0;
  let rows = 0;
  return {
    format: 'nsl-kdd',
    synthesized: {
      addresses: true,
      times: true,
      note: 'NSL-KDD has no addresses or times: one synthetic source per row (198.18.0.0/15), row i at i minutes; an entity window is one connection, so the rules cannot fire and the figures judge the model',
    },
    parseLine(line: string, lineNo: number): LabelledRecord | ParseError | null {
      if (line.trim() === '') return null;
      const c = splitCsv(line);
      if (!c) return parseError(lineNo, 'bad-quote', line);
      if (!at) {
        width = c.length;
        if (c[0].trim() === 'duration') {
          const cols = new Columns(c);
          at = {
            duration: cols.find('duration'),
            protocol_type: cols.find('protocol_type'),
            service: cols.find('service'),
            flag: cols.find('flag'),
            src_bytes: cols.find('src_bytes', 'src_byts'),
            dst_bytes: cols.find('dst_bytes'),
            label: cols.find('label', 'class'),
          };
          return null;
        }
        at = POSITIONAL;
      }
      if (c.length !== width) return parseError(lineNo, 'bad-column-count', line, `${c.length} of ${width} columns`);
      const get = (n: string): string => (at![n] >= 0 ? c[at![n]].trim() : '');
      const n = rows++;
      const proto = protocol(get('protocol_type'));
      if (proto === undefined) return parseError(lineNo, 'bad-value', line, 'protocol_type');
      const dur = decimal(get('duration'));
      if (dur === undefined) return parseError(lineNo, 'bad-number', line, 'duration');
      const sb = uint(get('src_bytes'));
      if (sb === undefined) return parseError(lineNo, 'bad-number', line, 'src_bytes');
      const db = uint(get('dst_bytes'));
      if (db === undefined) return parseError(lineNo, 'bad-number', line, 'dst_bytes');
      const label = get('label');
      if (label === '') return parseError(lineNo, 'missing-field', line, 'label');
      const flow = buildFlow(
        {
          start: n * 60_000,
          durationMs: dur * 1000,
          protocol: proto,
          srcAddr: syntheticSource(n),
          dstAddr: SYNTHETIC_DESTINATION,
          dstPort: SERVICE_PORTS[get('service')],
          bytesOrig: sb,
          bytesReply: db,
          flags: fromZeekConnState(get('flag'), proto),
        },
        lineNo,
        line,
        'src',
        'dst',
      );
      if ('reason' in flow) return flow;
      return { flow, label: nslKddLabel(label), line: lineNo };
    },
  };
}
