// docs/metrics.md and the source stay in step (STYLE.md pattern 13): every floe_* metric name
// written as a string literal in the (non-test) source of packages/ and services/ is documented,
// every documented metric exists, names follow floe_<component>_<what>, counters end in _total.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DOC = 'docs/metrics.md';
/** floe_<component>_<what>: lower case, digits and underscores. */
const NAME = /^floe_[a-z][a-z0-9]*_[a-z0-9_]*[a-z0-9]$/;
/** A metric name as a whole string literal. */
const LITERAL = /['"`](floe_[a-z0-9_]+)['"`]/g;

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    if (e === 'node_modules' || e === 'dist') continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (e.endsWith('.ts') && !e.endsWith('.test.ts') && !e.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function inSource(): Map<string, string> {
  const found = new Map<string, string>();
  for (const top of ['packages', 'services']) {
    for (const pkg of readdirSync(join(ROOT, top))) {
      const src = join(ROOT, top, pkg, 'src');
      if (!statSync(src, { throwIfNoEntry: false })?.isDirectory()) continue;
      for (const file of sources(src)) {
        for (const m of readFileSync(file, 'utf8').matchAll(LITERAL)) {
          if (m[1].endsWith('_')) continue; // a prefix ('floe_' of the process metrics), not a name
          found.set(m[1], file.slice(ROOT.length));
        }
      }
    }
  }
  return found;
}

/** Rows `| \`name\` | type | labels | meaning |` of the doc. */
function inDoc(): Map<string, { type: string; labels: string }> {
  const rows = new Map<string, { type: string; labels: string }>();
  for (const line of readFileSync(join(ROOT, DOC), 'utf8').split('\n')) {
    const m = /^\| `(floe_[a-z0-9_]+)` \|\s*(\w+)\s*\|([^|]*)\|/.exec(line);
    if (m) {
      assert.ok(!rows.has(m[1]), `${m[1]} is listed twice in ${DOC}`);
      rows.set(m[1], { type: m[2], labels: m[3].trim() });
    }
  }
  return rows;
}

it('every floe_* metric in the source is in docs/metrics.md and every documented metric is in the source', () => {
  const src = inSource();
  const doc = inDoc();
  assert.ok(src.size > 20, `found ${src.size} metric names in the source`);
  const undocumented = [...src].filter(([n]) => !doc.has(n)).map(([n, f]) => `${n} (${f})`);
  assert.deepEqual(undocumented, [], `metrics missing from ${DOC}`);
  const gone = [...doc.keys()].filter((n) => !src.has(n));
  assert.deepEqual(gone, [], `metrics in ${DOC} that no source registers`);
});

it('documented names follow floe_<component>_<what>; counters end in _total, others do not; types are prom-client types', () => {
  for (const [name, { type }] of inDoc()) {
    assert.match(name, NAME, `${name}: floe_<component>_<what>`);
    assert.ok(['counter', 'gauge', 'histogram', 'summary'].includes(type), `${name}: unknown type ${type}`);
    assert.equal(name.endsWith('_total'), type === 'counter', `${name} (${type}): only counters end in _total`);
  }
});
