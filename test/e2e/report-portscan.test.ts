/**
 * Issue 8 part 5: a compliance report of the port-scan scenario. The built CLI replays the bundled
 * nmap capture (services/cli/samples) into a DuckDB store file under a policy that puts the victim's
 * network inside, then `floe report` writes JSON, CSV, HTML and PDF. The test counts the stored
 * flows, findings, blocks and gaps with its own SQL and checks every format states those numbers
 * (PDF through poppler's pdftotext), then renders the PDF's pages to PNG with pdftoppm.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { floeSync } from '../helpers/floe-run.js';
import { figuresOfCsv, figuresOfHtml, figuresOfJson, figuresOfPdfText, pdfToText } from '@floe/report';

const SAMPLE = fileURLToPath(new URL('../../services/cli/samples/conntrack-nmap-top100-scan.log', import.meta.url));
/** Where the first page of the rendered PDF is kept for a person to look at. */
const PNG_OUT = join(tmpdir(), 'floe-report-portscan');
const havePoppler = spawnSync('pdftotext', ['-v']).status === 0 && spawnSync('pdftoppm', ['-v']).status === 0;
if (!havePoppler && process.env.CI) throw new Error('poppler-utils (pdftotext, pdftoppm) must be installed in CI: scripts/setup-deps.sh');

// The victim (10.60.0.11) is in the policy's pods network; the scanner (10.70.0.2) is outside.
const POLICY = `version: 1
name: portscan-report
networks:
  pods: [10.60.0.0/16]
`;

const floe = (args: string[], cwd: string) => floeSync(args, { cwd, env: { FLOE_LOG_LEVEL: 'warn' }, timeoutMs: 120_000 });

/** First and last capture time (ms) of a conntrack -E -o timestamp file. */
function captureSpan(file: string): [number, number] {
  const ts = [...readFileSync(file, 'utf8').matchAll(/^\[(\d+)\.(\d+)\]/gm)].map((m) => Number(m[1]) * 1000 + Math.floor(Number(m[2]) / 1000));
  return [Math.min(...ts), Math.max(...ts)];
}

async function sql(db: string, queries: Record<string, string>): Promise<Record<string, number>> {
  const inst = await DuckDBInstance.create(db, { access_mode: 'READ_ONLY' });
  const c = await inst.connect();
  try {
    const out: Record<string, number> = {};
    for (const [k, q] of Object.entries(queries)) out[k] = Number((await c.runAndReadAll(q)).getRows()[0][0] ?? 0);
    return out;
  } finally {
    c.closeSync();
    inst.closeSync();
  }
}

test('compliance report of the port-scan replay: four formats, numbers equal to a direct count over the stored flows', {
  skip: !havePoppler && 'poppler-utils missing',
  timeout: 240_000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-report-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, POLICY);
  const store = join(dir, 'floe.duckdb');
  const run = floe(['run', '--replay', SAMPLE, '--speed', 'max', '--exit-after-replay', '--dry-run', '--store', store, '--api-port', '0', '--policy', policy], dir);
  assert.equal(run.code, 0, run.stderr);

  // the period: from the capture's first hour (flow times are the capture's) to the end of this
  // hour (findings and decisions of a replay are stamped with the time they were made)
  const [first, last] = captureSpan(SAMPLE);
  const H = 3_600_000;
  const from = Math.floor(first / H) * H;
  const to = Math.floor(Math.max(last, Date.now()) / H) * H + H;
  const out = join(dir, 'reports');
  const rep = floe(
    ['report', '--from', new Date(from).toISOString(), '--to', String(to), '--format', 'json,csv,html,pdf', '--out', out, '--store', store, '--policy', policy, '--cluster', 'lab'],
    dir,
  );
  assert.equal(rep.code, 0, rep.stderr);
  assert.match(rep.stderr, /floe report: counting flows, findings and blocks in the store/, 'progress on stderr');
  const id = /^report (rpt-\S+):/.exec(rep.stdout)?.[1];
  assert.ok(id, rep.stdout);
  for (const f of ['json', 'csv', 'html', 'pdf']) assert.ok(existsSync(join(out, `${id}.${f}`)), `${f} written`);
  assert.deepEqual(
    JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')).map((k: { id: string }) => k.id),
    [id],
  );

  // the test's own count over the store (default ingress ports of the policy: tcp 6443, 2379-2380, 10250, 10257, 10259, 30000-32767; udp 30000-32767)
  const range = `observed_at >= ${from} AND observed_at < ${to}`;
  const allowed =
    '((protocol = 6 AND (dst_port IN (6443, 2379, 2380, 10250, 10257, 10259) OR dst_port BETWEEN 30000 AND 32767)) OR (protocol = 17 AND dst_port BETWEEN 30000 AND 32767))';
  const direct = await sql(store, {
    'flows.total': `SELECT count(*) FROM flows WHERE ${range}`,
    'flows.bytes': `SELECT coalesce(sum(coalesce(bytes_orig, 0) + coalesce(bytes_reply, 0)), 0) FROM flows WHERE ${range}`,
    'flows.inbound': `SELECT count(*) FROM flows WHERE ${range} AND direction = 'ingress'`,
    'flows.inbound_not_allowed': `SELECT count(*) FROM flows WHERE ${range} AND direction = 'ingress' AND protocol IN (6, 17, 132, 33, 136) AND dst_port IS NOT NULL AND NOT ${allowed}`,
    'flows.outbound': `SELECT count(*) FROM flows WHERE ${range} AND direction = 'egress'`,
    'flows.etcd_outside': `SELECT count(*) FROM flows WHERE ${range} AND protocol = 6 AND dst_port IN (2379, 2380)`,
    'flows.metadata_api': `SELECT count(*) FROM flows WHERE ${range} AND dst_addr IN ('169.254.169.254', 'fd00:ec2::254')`,
    'findings.total': `SELECT count(*) FROM findings WHERE first_seen < ${to} AND last_seen >= ${from}`,
    'findings.high': `SELECT count(*) FROM findings WHERE first_seen < ${to} AND last_seen >= ${from} AND severity = 'high'`,
    'findings.medium': `SELECT count(*) FROM findings WHERE first_seen < ${to} AND last_seen >= ${from} AND severity = 'medium'`,
    'findings.blocked': `SELECT count(*) FROM findings WHERE first_seen < ${to} AND last_seen >= ${from} AND id IN (SELECT origin FROM decisions)`,
    'blocks.total': `SELECT count(*) FROM decisions WHERE created_at >= ${from} AND created_at < ${to}`,
    'blocks.dry_run': `SELECT count(*) FROM decisions WHERE created_at >= ${from} AND created_at < ${to} AND dry_run`,
    'blocks.duration_ms_total': `SELECT coalesce(sum(duration_ms), 0) FROM decisions WHERE created_at >= ${from} AND created_at < ${to}`,
    'gaps.dead_letters': `SELECT count(*) FROM dead_letters WHERE at_ms >= ${from} AND at_ms < ${to}`,
    'gaps.rejected_lines': `SELECT coalesce(sum(count), 0) FROM data_gaps WHERE kind = 'rejected' AND to_ms >= ${from} AND from_ms < ${to}`,
  });
  t.diagnostic(`direct counts: ${JSON.stringify(direct)}`);
  assert.ok(direct['flows.total'] > 700, 'the replay stored the capture');
  assert.ok(direct['flows.inbound_not_allowed'] > 90, 'the scan of 100 ports is inbound to ports the policy does not allow');
  assert.ok(direct['findings.high'] >= 1 && direct['blocks.total'] >= 1 && direct['findings.blocked'] >= 1, 'the scan raised a finding and a (dry-run) block for it');

  const json = figuresOfJson(readFileSync(join(out, `${id}.json`), 'utf8'));
  for (const [k, v] of Object.entries(direct)) assert.equal(json.get(k), v, `${k}: report ${json.get(k)}, direct count ${v}`);
  assert.deepEqual(figuresOfCsv(readFileSync(join(out, `${id}.csv`), 'utf8')), json, 'CSV states the JSON figures');
  assert.deepEqual(figuresOfHtml(readFileSync(join(out, `${id}.html`), 'utf8')), json, 'HTML states the JSON figures');
  const pdf = join(out, `${id}.pdf`);
  const text = pdfToText(pdf);
  assert.deepEqual(figuresOfPdfText(text, [...json.keys()]), json, 'PDF states the JSON figures');
  const report = JSON.parse(readFileSync(join(out, `${id}.json`), 'utf8'));
  assert.equal(report.scope.cluster, 'lab');
  assert.notEqual(report.completeness.status, 'no-data');
  assert.equal(report.controls.find((c: { id: string }) => c.id === '1.3.1').status, 'exceptions');
  assert.match(text, /EXCEPTIONS/);

  // rendered to PNG (poppler); page 1 kept under /tmp for a person to look at
  const r = spawnSync('pdftoppm', ['-png', '-r', '80', pdf, join(dir, 'page')]);
  assert.equal(r.status, 0, String(r.stderr));
  const pages = readdirSync(dir).filter((f) => /^page-\d+\.png$/.test(f));
  assert.ok(pages.length >= 2, `pages rendered: ${pages.join(', ')}`);
  for (const p of pages.sort()) copyFileSync(join(dir, p), `${PNG_OUT}-${p}`);
  t.diagnostic(`PDF pages rendered to ${PNG_OUT}-page-*.png`);

  // a period without flows is NO DATA, not compliant
  const empty = floe(['report', '--from', String(to + H), '--to', String(to + 2 * H), '--format', 'json', '--out', out, '--store', store, '--policy', policy], dir);
  assert.equal(empty.code, 0, empty.stderr);
  assert.match(empty.stdout, /NO DATA/);
  // a bad range is a clear error, exit 2
  const bad = floe(['report', '--from', String(to), '--to', String(from), '--store', store], dir);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^floe: from \(.*\) must be before to/);
});
