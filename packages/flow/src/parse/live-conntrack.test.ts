import { strict as assert } from 'node:assert';
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { FlowRecord } from '../record.js';
import { ParseStats } from './stats.js';
import { parseLines } from './stream.js';
import type { FormatName } from './types.js';

// Real conntrack-tools against a real kernel, in a network namespace made here: the parsers must
// read what this machine's `conntrack -E` (text and XML) and `conntrack -D` print. Needs root, ip,
// nft and conntrack; skipped otherwise.

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function available(): string | undefined {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'needs root';
  try {
    sh('conntrack', ['--version']);
    sh('nft', ['--version']);
    sh('ip', ['-V']);
    return undefined;
  } catch {
    return 'needs conntrack, nft and ip';
  }
}

const TRAFFIC = `
const net = require('node:net'); const dgram = require('node:dgram');
const srv = net.createServer((s) => { s.on('data', (d) => s.end('y'.repeat(10))); });
srv.listen(0, '127.0.0.1', () => {
  const port = srv.address().port;
  const c = net.connect(port, '127.0.0.1', () => c.write('x'.repeat(100)));
  c.on('data', () => {});
  c.on('close', () => {
    const u4 = dgram.createSocket('udp4'); const u6 = dgram.createSocket('udp6');
    u4.send('hello', 5353, '127.0.0.1', () => u6.send('hello6', 5354, '::1', () => {
      u4.close(); u6.close(); srv.close(); process.stdout.write(String(port));
    }));
  });
});`;

async function collect(lines: string[], format: FormatName | 'auto') {
  const stats = new ParseStats();
  const records: FlowRecord[] = [];
  let detected: FormatName | undefined;
  for await (const r of parseLines(lines, {
    format,
    stats,
    onFormat: (f) => {
      detected = f;
    },
  }))
    records.push(r);
  return { records, stats, detected };
}

test('live conntrack -E (extended,timestamp,id and xml) and -D output parse without a rejected line', { skip: available() }, async (t) => {
  const ns = `floe-flow-${randomBytes(4).toString('hex')}`;
  sh('ip', ['netns', 'add', ns]);
  const procs: ChildProcessWithoutNullStreams[] = [];
  t.after(() => {
    for (const p of procs) p.kill('SIGKILL');
    try {
      sh('ip', ['netns', 'del', ns]);
    } catch {
      /* already gone */
    }
  });
  const inNs = (args: string[]) => sh('ip', ['netns', 'exec', ns, ...args]);
  inNs(['ip', 'link', 'set', 'lo', 'up']);
  inNs(['sysctl', '-qw', 'net.netfilter.nf_conntrack_acct=1']);
  inNs(['nft', 'add table inet floe; add chain inet floe out { type filter hook output priority 0; }; add rule inet floe out ct state new counter']);

  const watch = (args: string[]) => {
    const p = spawn('ip', ['netns', 'exec', ns, 'conntrack', '-E', ...args]);
    procs.push(p);
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    return () => out;
  };
  const text = watch(['-o', 'extended,timestamp,id']);
  const xml = watch(['-o', 'xml']);
  await new Promise((r) => setTimeout(r, 500)); // let both subscribe to the event groups
  const t0 = Date.now();
  const port = Number(inNs([process.execPath, '-e', TRAFFIC]));
  const dump = inNs(['conntrack', '-D', '-o', 'extended,id']); // deletes every entry: DESTROY events with counters
  await new Promise((r) => setTimeout(r, 500));
  const t1 = Date.now();
  assert.ok(port > 0);

  const txt = await collect(text().split('\n'), 'auto');
  assert.equal(txt.detected, 'conntrack');
  assert.equal(txt.stats.rejected, 0, JSON.stringify(txt.stats.errors));
  const tcp = txt.records.filter((r) => r.protocol === 6 && r.dstPort === port);
  assert.deepEqual(
    tcp.map((r) => r.event).filter((e, k, a) => a.indexOf(e) === k),
    ['new', 'update', 'destroy'],
  );
  const destroyed = tcp.find((r) => r.event === 'destroy');
  assert.ok(destroyed?.bytesOrig !== undefined && destroyed.bytesOrig > 100, 'orig bytes include the 100-byte payload');
  assert.ok((destroyed?.bytesReply ?? 0) > 10, 'reply bytes include the 10-byte answer');
  assert.ok(tcp.every((r) => r.observedAt >= t0 - 1000 && r.observedAt <= t1 + 1000 && r.ctId === tcp[0].ctId));
  const udp6 = txt.records.find((r) => r.family === 6 && r.dstPort === 5354);
  assert.equal(udp6?.srcAddr, '::1');
  assert.equal(udp6?.unreplied, true);

  const x = await collect(xml().split('\n'), 'auto');
  assert.equal(x.detected, 'conntrack-xml');
  assert.equal(x.stats.rejected, 0, JSON.stringify(x.stats.errors));
  const xtcp = x.records.filter((r) => r.protocol === 6 && r.dstPort === port);
  assert.deepEqual(
    xtcp.map((r) => r.event),
    tcp.map((r) => r.event),
  );
  assert.equal(xtcp.find((r) => r.event === 'destroy')?.bytesOrig, destroyed?.bytesOrig);

  const d = await collect(dump.split('\n'), 'conntrack');
  assert.equal(d.stats.rejected, 0, JSON.stringify(d.stats.errors));
  assert.ok(d.records.some((r) => r.event === 'snapshot' && r.dstPort === port && r.bytesOrig === destroyed?.bytesOrig));
});
