import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DetectError,
  checkDnsOptions,
  checkExfilOptions,
  checkLateralOptions,
  createDetectors,
  defaultDetectorOptions,
  defaultDnsOptions,
  defaultExfilOptions,
  defaultLateralOptions,
} from './index.js';

const field = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DetectError);
    assert.equal(e.code, 'FLOE_DETECT_BAD_OPTIONS');
    return e.field;
  }
  assert.fail('no error');
};

test('rule options: out-of-range values are refused with the field named', () => {
  assert.equal(
    field(() => checkExfilOptions({ ...defaultExfilOptions(), minPcr: 1.5 })),
    'exfil.minPcr',
  );
  assert.equal(
    field(() => checkExfilOptions({ ...defaultExfilOptions(), alpha: 0 })),
    'exfil.alpha',
  );
  assert.equal(
    field(() => checkExfilOptions({ ...defaultExfilOptions(), windowMs: 0 })),
    'exfil.windowMs',
  );
  assert.equal(
    field(() => checkDnsOptions({ ...defaultDnsOptions(), resolvers: ['10.96.0.10', 'dns.local'] })),
    'dns.resolvers[1]',
  );
  assert.equal(
    field(() => checkDnsOptions({ ...defaultDnsOptions(), maxResolvers: 1 })),
    'dns.maxResolvers',
  );
  assert.equal(
    field(() => checkLateralOptions({ ...defaultLateralOptions(), manyPeers: 1 })),
    'lateral.manyPeers',
  );
  assert.equal(
    field(() => checkLateralOptions({ ...defaultLateralOptions(), severity: 'urgent' as 'high' })),
    'lateral.severity',
  );
  assert.equal(
    field(() => createDetectors({ ...defaultDetectorOptions(), exfil: { ...defaultExfilOptions(), sigmas: -1 } })),
    'exfil.sigmas',
  );
});

test('rule options: sections switched off create no detector', () => {
  const o = defaultDetectorOptions();
  const { bruteforce: _b, synflood: _s, beacon: _c, ...withoutOthers } = o;
  const ids = createDetectors({ ...withoutOthers, exfil: { ...o.exfil!, enabled: false }, dns: { ...o.dns!, volume: false }, lateral: { ...o.lateral!, enabled: false } }).map(
    (d) => d.id,
  );
  assert.deepEqual(ids, ['portscan.vertical', 'hostsweep.horizontal', 'scan.random']);
  const { exfil: _e, dns: _d, lateral: _l, ...scansOnly } = withoutOthers;
  assert.deepEqual(
    createDetectors(scansOnly).map((d) => d.id),
    ['portscan.vertical', 'hostsweep.horizontal', 'scan.random'],
  );
});
