/**
 * Issue 7 part 5: more than an hour of benign traffic, replayed at full speed through the built
 * `floe analyze`, raises no finding.
 *
 * What the hour is made of: one real recording, `captures/benign-hour.log`, of a little over an
 * hour of benign traffic in the attack lab (test/helpers/attack.ts), captured live with
 * `conntrack -E` on the router by `captures/record-benign.ts`: from 10.232.1.2 to the five hosts
 * of 10.232.2.0/24, one action at a time with a random pause of 0.3 to 8 s: HTTP GETs and bursts
 * (curl to python's http.server), DNS queries (dig to dnsmasq), ssh sessions with key login
 * running a command or reading up to 500 kB, pings. Traffic from a script, so it is varied but
 * not a real user's day; one client and five servers, no hour-long connections. It is replayed as
 * recorded (no tiling or time shifting).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { analyze } from '../helpers/attack.js';

const RECORDING = fileURLToPath(new URL('captures/benign-hour.log', import.meta.url));

test('an hour of real benign traffic, replayed at full speed, raises no finding', { timeout: 120_000 }, (t) => {
  const lines = readFileSync(RECORDING, 'utf8').split('\n').filter(Boolean);
  const stamp = (l: string) => Number(/^\[(\d+\.\d+)\]/.exec(l)![1]);
  const span = stamp(lines[lines.length - 1]) - stamp(lines[0]);
  assert.ok(span >= 3600, `the recording spans an hour: ${span} s`);
  // what the hour holds: new connections by service
  const news = lines.filter((l) => l.includes('[NEW]') && l.includes('src=10.232.1.2 '));
  const count = (re: RegExp) => news.filter((l) => re.test(l)).length;
  const by = { http: count(/ dport=8000 /), ssh: count(/ dport=22 /), dns: count(/ udp .* dport=53 /), ping: count(/ icmp .* type=8 /) };
  t.diagnostic(`${lines.length} events over ${Math.round(span)} s; new connections ${JSON.stringify(by)}`);
  assert.ok(by.http >= 300 && by.ssh >= 50 && by.dns >= 100 && by.ping >= 50, `every kind of benign traffic, often: ${JSON.stringify(by)}`);
  const a = analyze([RECORDING]);
  assert.equal(a.parsed, lines.length);
  assert.equal(a.rejected, 0);
  assert.deepEqual(
    a.findings.map((f) => `${f.detector} ${f.entity.addr}: ${f.summary}`),
    [],
  );
});
