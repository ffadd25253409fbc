// Internet background noise as an iptables LOG rule on an exposed node logs it, for the benches:
// one SYN from a random source to one of a few ports of the node (sources drawn from 2^32
// addresses, so nearly every line is a new source: about a million distinct sources per million
// lines), plus three real scans mixed in: a vertical scan (one source, 1000 ports of the node), a
// host sweep (one source, port 22 of 256 hosts) and a random scan (one source, 300 random
// host:port pairs). Lines are 10 ms apart in syslog time (one-second resolution, as rsyslog
// writes it), so 1M lines span about 2.8 hours. Seeded: the same `n`, the same lines.
import { mulberry32 } from './random.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const NODE = '203.0.113.10';
const NOISE_PORTS = [22, 23, 80, 443, 445, 3389, 8080, 5900, 25, 1433];

function stamp(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

function line(ms: number, uptime: number, src: string, dst: string, spt: number, dpt: number, id: number): string {
  return `${stamp(ms)} edge-1 kernel: [${uptime.toFixed(6)}] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=${src} DST=${dst} LEN=44 TOS=0x00 PREC=0x00 TTL=243 ID=${id} PROTO=TCP SPT=${spt} DPT=${dpt} WINDOW=1024 RES=0x00 SYN URGP=0\n`;
}

/** The `n` lines, in order (the same for the same `n`). */
export function* noiseLines(n: number): Generator<string> {
  const rnd = mulberry32(2026);
  const pick = (k: number) => Math.floor(rnd() * k);
  const t0 = Date.UTC(2026, 10, 30, 0, 0, 0);
  // The scans: 1000 + 256 + 300 lines placed at a few points of the file.
  const scans = new Map<number, string[]>();
  const at = (i: number, l: string) => {
    const k = Math.floor(i);
    const list = scans.get(k);
    if (list === undefined) scans.set(k, [l]);
    else list.push(l);
  };
  const base = Math.floor(n / 3);
  for (let p = 0; p < 1000; p++) at(base + p * 3, `vertical|198.51.100.7|${NODE}|${1 + p}`);
  for (let h = 0; h < 256; h++) at(2 * base + h * 5, `sweep|198.51.100.8|203.0.113.${h}|22`);
  for (let k = 0; k < 300; k++) at(base / 2 + k * 7, `random|198.51.100.9|203.0.113.${pick(256)}|${1 + pick(65535)}`);
  for (let i = 0; i < n; i++) {
    const ms = t0 + i * 10;
    const up = 1_000_000 + i * 0.01;
    const extra = scans.get(i);
    if (extra !== undefined && extra.length > 0) {
      const [, src, dst, dpt] = (extra.pop() as string).split('|');
      yield line(ms, up, src, dst, 40000 + pick(20000), Number(dpt), pick(65536));
    } else {
      const src = `${1 + pick(223)}.${pick(256)}.${pick(256)}.${1 + pick(254)}`;
      yield line(ms, up, src, NODE, 1024 + pick(64000), NOISE_PORTS[pick(NOISE_PORTS.length)], pick(65536));
    }
  }
}
