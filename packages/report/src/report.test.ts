import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createDuckDbStore } from '@floe/store';
import { Ajv } from 'ajv';
import { buildReport, keptReportJsonSchema, openReportArchive, REPORT_FORMATS, reportJsonSchema } from './index.js';
import { H, POLICY, seed, T } from './test-fixtures.js';
import { figuresOfCsv, figuresOfHtml, figuresOfJson, figuresOfPdfText, parseCsvLine, pdfToText } from './read-back.js';

async function seeded(t: { after: (fn: () => Promise<void>) => void }) {
  const store = createDuckDbStore({ path: ':memory:' });
  await store.start();
  t.after(() => store.stop());
  await seed(store);
  return store;
}

test('a report judges flow groups with the policy: inbound ports, egress allow-list, namespace and zone boundaries, metadata API, etcd and control-plane ports', async (t) => {
  const store = await seeded(t);
  const r = await buildReport(store, { from: T, to: T + 2 * H, policy: POLICY, now: () => T + 3 * H });
  const fig = Object.fromEntries(r.figures.map((f) => [f.key, f.value]));
  assert.equal(fig['flows.total'], 40);
  assert.equal(fig['flows.inbound'], 30, 'the 30 probes come from outside the policy networks');
  assert.equal(fig['flows.inbound_not_allowed'], 29, '6443 is in the default ingress set');
  assert.equal(fig['flows.outbound'], 4, 'three egress flows and the metadata API (outside every network)');
  assert.equal(fig['flows.egress_not_allowed'], 3, '8443 to the allowed prefix, 443 elsewhere, the metadata API');
  assert.equal(fig['flows.namespace_boundary'], 1);
  assert.equal(fig['flows.metadata_api'], 1);
  assert.equal(fig['flows.metadata_api_violations'], 1);
  assert.equal(fig['flows.etcd_outside'], 1, 'the control plane reaching etcd is not counted');
  assert.equal(fig['flows.control_plane_ports_outside'], 2, 'a pod reached the kubelet, the outside host reached 6443');
  assert.equal(fig['flows.zone_crossings'], 30 - 30 + 1 + 2 + 0, 'dmz -> pods and pods -> controlPlane (etcd, kubelet)');
  assert.equal(fig['namespaces.seen'], 2);
  assert.equal(fig['findings.total'], 2);
  assert.equal(fig['findings.high'], 1);
  assert.equal(fig['findings.blocked'], 1, 'the block names the scan finding as its origin');
  assert.equal(fig['blocks.total'], 1);
  assert.equal(fig['blocks.duration_ms_total'], H);
  assert.equal(fig['gaps.enobufs_warnings'], 2);
  assert.equal(fig['gaps.dead_letters'], 1);
  assert.equal(r.completeness.status, 'incomplete', 'an ENOBUFS gap makes the data incomplete');
  const status = Object.fromEntries(r.controls.map((c) => [c.id, c.status]));
  assert.equal(status['1.3.1'], 'exceptions');
  assert.equal(status['5.3.1'], 'exceptions');
});

test('a period without flows is NO DATA, never compliant; bad ranges and zones are refused', async (t) => {
  const store = await seeded(t);
  const r = await buildReport(store, { from: T + 10 * H, to: T + 11 * H, policy: POLICY });
  assert.equal(r.completeness.status, 'no-data');
  assert.match(r.completeness.statement, /^NO DATA/);
  assert.ok(r.controls.every((c) => c.status === 'no-data'));
  await assert.rejects(buildReport(store, { from: T, to: T, policy: POLICY }), { code: 'FLOE_REPORT_BAD_RANGE' });
  await assert.rejects(buildReport(store, { from: T, to: T + 400 * 24 * H, policy: POLICY }), { code: 'FLOE_REPORT_BAD_RANGE' });
  await assert.rejects(buildReport(store, { from: T, to: T + H, policy: POLICY, scope: { zones: ['nowhere'] } }), { code: 'FLOE_REPORT_BAD_SCOPE' });
  const dmz = await buildReport(store, { from: T, to: T + 2 * H, policy: POLICY, scope: { zones: ['dmz'] } });
  assert.equal(dmz.traffic.flows, 1);
});

test('every format states the same figures as the JSON (CSV parsed, HTML rows, PDF text via pdftotext); kept and listed', async (t) => {
  const store = await seeded(t);
  const r = await buildReport(store, { from: T, to: T + 2 * H, policy: POLICY, scope: { cluster: 'test <b>&"' } });
  const dir = mkdtempSync(join(tmpdir(), 'floe-report-'));
  const archive = openReportArchive(dir);
  const kept = await archive.save(r, REPORT_FORMATS);
  assert.deepEqual(kept.formats, ['json', 'csv', 'html', 'pdf']);
  assert.deepEqual(
    (await archive.list()).map((k) => k.id),
    [r.id],
  );
  const ajv = new Ajv({ strict: false });
  assert.ok(ajv.validate(reportJsonSchema, JSON.parse((await archive.read(r.id, 'json')).toString())), ajv.errorsText());
  assert.ok(ajv.validate({ type: 'array', items: keptReportJsonSchema }, await archive.list()), ajv.errorsText());
  const json = figuresOfJson((await archive.read(r.id, 'json')).toString());
  assert.equal(json.size, r.figures.length);
  assert.deepEqual(figuresOfCsv((await archive.read(r.id, 'csv')).toString()), json);
  const page = (await archive.read(r.id, 'html')).toString();
  assert.deepEqual(figuresOfHtml(page), json);
  assert.ok(!page.includes('<b>&"'), 'data text is escaped in HTML');
  assert.ok(!/<script|src=|href=/i.test(page), 'self-contained: no script, no external resource');
  assert.equal((page.match(/<svg /g) ?? []).length, 3, 'three inline SVG charts');
  const pdf = join(dir, `${r.id}.pdf`);
  assert.equal(readFileSync(pdf).subarray(0, 5).toString(), '%PDF-');
  const text = pdfToText(pdf);
  assert.deepEqual(figuresOfPdfText(text, [...json.keys()]), json);
  assert.match(text, /INCOMPLETE DATA/);
  await assert.rejects(archive.read('rpt-../../etc/passwd', 'json'), { code: 'FLOE_REPORT_NOT_FOUND' });
  await assert.rejects(archive.read(r.id.replace(/.$/, r.id.endsWith('0') ? '1' : '0'), 'json'), { code: 'FLOE_REPORT_NOT_FOUND' });
  // the PDF renders (poppler) to a page image
  execFileSync('pdftoppm', ['-png', '-r', '60', '-f', '1', '-l', '1', pdf, join(dir, 'page')]);
  assert.ok(readFileSync(join(dir, 'page-1.png')).subarray(1, 4).toString() === 'PNG');
});

test('CSV cells: RFC 4180 quoting and no formula injection', async () => {
  const { csvCell } = await import('./csv.js');
  assert.equal(csvCell('a,"b"'), '"a,""b"""');
  assert.equal(csvCell('=cmd|x'), "'=cmd|x");
  assert.deepEqual(parseCsvLine(`x,${csvCell('a,"b"\r\nc')},3`), ['x', 'a,"b"\r\nc', '3']);
  writeFileSync(join(tmpdir(), 'floe-csv-check.csv'), csvCell('-1'));
});
