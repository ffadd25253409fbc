/**
 * Small field readers shared by the importers. Every reader returns undefined for text it does
 * not accept, so the importer can reject the row naming the field.
 */
import { PROTO } from '@floe/flow';

const UINT = /^[0-9]{1,15}$/;
const DEC = /^[0-9]{1,15}(\.[0-9]{1,20})?$/;
const HEX = /^0x[0-9a-fA-F]{1,8}$/;

/** A non-negative decimal integer (no sign, exponent or fraction). */
export function uint(text: string): number | undefined {
  return UINT.test(text) ? Number(text) : undefined;
}

/** A non-negative decimal number with an optional fraction (seconds, rates). */
export function decimal(text: string): number | undefined {
  return DEC.test(text) ? Number(text) : undefined;
}

/** A port 0..65535, decimal or Argus's `0x`-hex (ICMP type/code in CTU binetflow). */
export function port(text: string): number | undefined {
  const v = HEX.test(text) ? Number.parseInt(text.slice(2), 16) : uint(text);
  return v !== undefined && v <= 65535 ? v : undefined;
}

/** Seconds with a fraction (`1545403816.962094`) → ms since epoch, rounded to the microsecond's ms. */
export function secondsToMs(text: string): number | undefined {
  const s = decimal(text);
  return s === undefined ? undefined : Math.round(s * 1e6) / 1e3;
}

const DATETIME = /^(\d{4})[-/](\d{2})[-/](\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?$/;

/**
 * `YYYY-MM-DD HH:MM:SS[.ffffff]` or `YYYY/MM/DD ...` (Argus) → ms since epoch, READ AS UTC: the
 * data sets write local capture time without a zone (CIC-IDS2017: New Brunswick, UTC−3; CTU:
 * Prague, UTC+1/+2), so absolute times are off by that offset while order, durations and
 * windows are right.
 */
export function dateTimeToMs(text: string): number | undefined {
  const m = DATETIME.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac] = m;
  const ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
  if (Number.isNaN(ms) || +mo < 1 || +mo > 12 || +d < 1 || +d > 31 || +h > 23 || +mi > 59 || +s > 60) return undefined;
  return ms + (frac ? Math.round(Number(frac) * 1e6) / 1e3 : 0);
}

/** IANA protocol numbers by the names the data sets use (Zeek `proto`, Argus/UNSW `proto`, NSL-KDD `protocol_type`). */
const PROTO_NAMES: Record<string, number> = {
  ...PROTO,
  'ipv6-icmp': PROTO.icmpv6,
  icmp6: PROTO.icmpv6,
  igmp: 2,
  ipv6: 41,
  ospf: 89,
  pim: 103,
  // Argus names UDP flows it recognised as RTP/RTCP by those names (argus(8) -s proto).
  rtp: PROTO.udp,
  rtcp: PROTO.udp,
};

/** Protocol number from a name (case-insensitive) or a decimal number 0..255. */
export function protocol(text: string): number | undefined {
  const n = uint(text);
  if (n !== undefined) return n <= 255 ? n : undefined;
  return PROTO_NAMES[text.toLowerCase()];
}

/** Names that are not IP protocols: Argus writes link-layer and management records with them. */
export const NOT_IP = new Set(['arp', 'rarp', 'llc', 'man', 'stp', 'ipx/spx', 'lldp', 'ipx', 'cdp']);

/**
 * Split one CSV line (RFC 4180: comma separator, fields optionally in double quotes with `""`
 * for a quote). Returns undefined for an unterminated quote.
 */
export function splitCsv(line: string, sep = ','): string[] | undefined {
  if (line.indexOf('"') === -1) return line.split(sep);
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        if (i >= line.length) return undefined;
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            v += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += line[i++];
      }
      out.push(v);
      if (i < line.length && line[i] !== sep) return undefined;
      i++;
    } else {
      const e = line.indexOf(sep, i);
      const end = e === -1 ? line.length : e;
      out.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return out;
}

/** Well-known ports for the service names of NSL-KDD (`service`) and UNSW-NB15 (`service`), IANA registry; names without a port stay absent. */
export const SERVICE_PORTS: Record<string, number> = {
  ftp: 21,
  ftp_data: 20,
  'ftp-data': 20,
  ssh: 22,
  telnet: 23,
  smtp: 25,
  domain: 53,
  domain_u: 53,
  dns: 53,
  dhcp: 67,
  tftp_u: 69,
  gopher: 70,
  finger: 79,
  http: 80,
  www: 80,
  link: 87,
  supdup: 95,
  hostnames: 101,
  iso_tsap: 102,
  csnet_ns: 105,
  pop_2: 109,
  pop_3: 110,
  pop3: 110,
  sunrpc: 111,
  auth: 113,
  uucp_path: 117,
  nntp: 119,
  ntp_u: 123,
  netbios_ns: 137,
  netbios_dgm: 138,
  netbios_ssn: 139,
  imap4: 143,
  snmp: 161,
  bgp: 179,
  irc: 194,
  ldap: 389,
  https: 443,
  http_443: 443,
  ssl: 443,
  exec: 512,
  login: 513,
  shell: 514,
  printer: 515,
  efs: 520,
  courier: 530,
  uucp: 540,
  klogin: 543,
  kshell: 544,
  nnsp: 433,
  http_2784: 2784,
  http_8001: 8001,
  X11: 6000,
  IRC: 6667,
  radius: 1812,
  sql_net: 1521,
  Z39_50: 210,
  whois: 43,
  vmnet: 175,
  mtp: 1911,
  name: 42,
  time: 37,
  daytime: 13,
  netstat: 15,
  systat: 11,
  discard: 9,
  echo: 7,
  ctf: 84,
  rje: 77,
  remote_job: 71,
};
