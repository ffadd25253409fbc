import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cefHeader, cefValue, findingToCef } from './cef.js';
import { octetCounted, syslogMessage } from './rfc5424.js';
import { parseCefExtension, splitCefHeader, testFinding } from './test-finding.js';

test('cef: header fields escape backslash and pipe; extension values escape backslash, equals and newlines', () => {
  assert.equal(cefHeader('a|b\\c'), 'a\\|b\\\\c');
  assert.equal(cefHeader('x=y'), 'x=y', 'equals is literal in a header field');
  assert.equal(cefValue('a=b\\c|d'), 'a\\=b\\\\c|d', 'a pipe is literal in an extension value');
  assert.equal(cefValue('one\ntwo\r'), 'one\\ntwo\\r');
  assert.equal(cefValue('esc\u001b[31m'), 'esc\\x1b[31m', 'other controls become visible');
});

test('cef: a finding becomes one line with src, dst, dpt, proto, act, cnt, rt, cs1 detector and cs2 finding id', () => {
  const f = testFinding({ summary: 'evil | summary = x\nforged line\\', evidence: { flows: 3, ports: [8080], sample: [{ at: 1, dst: '10.0.0.5', dstPort: 8080, protocol: 17 }] } });
  const line = findingToCef(f, '0.1.0');
  assert.ok(!line.includes('\n'));
  const parts = splitCefHeader(line);
  assert.deepEqual(parts.slice(0, 5), ['CEF:0', 'floe', 'floe', '0.1.0', 'portscan.vertical']);
  assert.equal(parts[5], 'evil \\| summary = x\\nforged line\\\\');
  assert.equal(parts[6], '8', 'high → CEF 8');
  const ext = parseCefExtension(parts[7]);
  assert.equal(ext.src, '10.0.0.66');
  assert.equal(ext.dst, '10.0.0.5');
  assert.equal(ext.dpt, '8080');
  assert.equal(ext.proto, 'UDP');
  assert.equal(ext.act, 'alert');
  assert.equal(ext.cnt, '3');
  assert.equal(ext.rt, String(f.lastSeen));
  assert.equal(ext.cs1, 'portscan.vertical');
  assert.equal(ext.cs1Label, 'detector');
  assert.equal(ext.cs2, f.id);
  assert.equal(ext.cs2Label, 'findingId');
  assert.equal(ext.msg, f.summary, 'the summary survives escaping and unescaping');
});

test('rfc5424: PRI, version, RFC 3339 time, NILVALUE for empty and PRINTUSASCII-only header fields; octet counting in bytes', () => {
  const m = syslogMessage({ facility: 10, severity: 3, at: Date.UTC(2026, 0, 5), hostname: 'node 1', appName: 'floe', procId: '42', msgId: '', msg: 'CEF:0|é' });
  assert.equal(m, '<83>1 2026-01-05T00:00:00.000Z node_1 floe 42 - - CEF:0|é');
  assert.equal(octetCounted('é').toString('utf8'), '2 é', 'length in bytes, not characters');
});
