import { findBodyStart } from './kernel-log.js';
import type { FormatName } from './types.js';

/** How many non-empty lines detectFormat looks at. */
export const DETECT_LINES = 20;

/**
 * Guess the format of an input from its first non-empty lines (up to DETECT_LINES): each line
 * votes for the format whose signature it carries, and the format with most votes wins
 * (at least one). Signatures:
 * - conntrack-xml: `<?xml` prologue, `<conntrack>` or a `<flow` element;
 * - ulogd-json: a JSON object with `oob.*`, `ct.event` or `orig.ip.protocol` keys (ulogd's NFLOG and
 *   NFCT key names; `src_ip` alone is not enough: Suricata's eve.json has it too);
 * - conntrack: a line holding `src=` and `dst=` after an optional `[epoch]`, event tag,
 *   `ipv4 2`/`ipv6 10` and a `<name> <number>` protocol pair;
 * - kernel-log: an `IN=... OUT=` body (findBodyStart) with `SRC=` and `DST=`, or a Proxmox
 *   line with `SRC=`, `DST=` and `PROTO=`.
 * Returns undefined when no line matches anything.
 */
export function detectFormat(lines: string[]): FormatName | undefined {
  const votes: Record<FormatName, number> = { 'conntrack-xml': 0, 'ulogd-json': 0, conntrack: 0, 'kernel-log': 0 };
  let seen = 0;
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '') continue;
    if (++seen > DETECT_LINES) break;
    const f = lineFormat(line);
    if (f !== undefined) votes[f]++;
  }
  let best: FormatName | undefined;
  let bestVotes = 0;
  for (const f of Object.keys(votes) as FormatName[]) {
    if (votes[f] > bestVotes) {
      best = f;
      bestVotes = votes[f];
    }
  }
  return best;
}

const CT_LINE = /^(?:\[\d+(?:\.\d+)?\]\s+)?(?:\[(?:NEW|UPDATE|DESTROY)\]\s+)?(?:ipv[46]\s+\d+\s+)?[a-z][a-z0-9]*\s+\d{1,3}\s/;

function lineFormat(line: string): FormatName | undefined {
  const c = line.charCodeAt(0);
  if (c === 60 /* < */) {
    if (line.startsWith('<?xml') || line.startsWith('<conntrack>') || line.startsWith('<flow')) return 'conntrack-xml';
  }
  if (c === 123 /* { */ && line.charCodeAt(line.length - 1) === 125) {
    if (line.includes('"oob.') || line.includes('"ct.event"') || line.includes('"orig.ip.protocol"')) {
      try {
        const o: unknown = JSON.parse(line);
        if (typeof o === 'object' && o !== null) return 'ulogd-json';
      } catch {
        return undefined;
      }
    }
    return undefined;
  }
  if (line.includes(' src=') && line.includes(' dst=') && CT_LINE.test(line)) return 'conntrack';
  if (line.includes('SRC=') && line.includes('DST=')) {
    if (findBodyStart(line) >= 0 || line.includes('PROTO=')) return 'kernel-log';
  }
  return undefined;
}
