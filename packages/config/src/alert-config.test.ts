import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, defaultConfig, loadConfig } from './index.js';

test('alert: defaults validate (no sinks, no routes: nothing sent)', () => {
  const d = defaultConfig();
  assert.equal(d.alert.enabled, true);
  assert.deepEqual(d.alert.routes, []);
  assert.deepEqual(d.alert.sinks, {});
  assert.equal(d.alert.retry.retries, 5);
});

test('alert: sinks and routes from the file; a sink lacking its address, an unknown type or key is refused with its line', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-cfg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'floe.yaml');
  writeFileSync(
    file,
    [
      'alert:',
      '  sinks:',
      '    am: { type: alertmanager, url: "http://127.0.0.1:9093" }',
      '    siem: { type: syslog, transport: tls, host: siem.example, port: 6514 }',
      '  routes:',
      '    - { minSeverity: high, detectors: ["portscan.*"], sinks: [am, siem] }',
    ].join('\n'),
  );
  const c = loadConfig({ file, env: {} });
  assert.equal(c.alert.sinks.am.type, 'alertmanager');
  assert.equal(c.alert.sinks.siem.timeoutMs, 10000, 'default filled in an entry');
  assert.deepEqual(c.alert.routes[0].sinks, ['am', 'siem']);
  for (const bad of ['    am: { type: alertmanager }', '    am: { type: pager, url: "http://x" }', '    am: { type: slack, url: "http://x", colour: red }']) {
    writeFileSync(file, ['alert:', '  sinks:', bad].join('\n'));
    assert.throws(
      () => loadConfig({ file, env: {} }),
      (e: unknown) => e instanceof ConfigError && e.issues.some((i) => i.includes(`${file}:3`) && i.includes('alert.sinks.am')),
      bad,
    );
  }
});
